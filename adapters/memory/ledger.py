"""The ledger in memory, with the SQL adapter's semantics and errors.

Order of checks mirrors the SQL ``post``: a missing account is ``NotFound``, a known
idempotency key is "already done" (None), then an uncovered debit is refused
(``domain.lots.refusal``) and a stale expiry is ``LotChanged``. Lots are consumed by
the same ``domain.lots`` rule as on SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc, utc
from adapters.pagination import check_limit, decode_int, encode_cursor
from application.ports import Page
from domain.errors import NotFound
from domain.ledger import (
    Account,
    Allocation,
    BalanceMismatch,
    EntryKind,
    LedgerEntry,
    Lot,
    Posting,
)
from domain.ledger_checks import (
    LedgerMismatch,
    LotMismatch,
    OverConsumedLot,
    is_over_consumed,
    lot_mismatches,
)
from domain.lots import consume, consumption_order, refill, refusal


class MemoryLedgerRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def open_account(self, user_id: str) -> None:
        self._state.accounts.setdefault(user_id, Account(user_id, 0))

    async def post(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        account = self._state.accounts.get(posting.user_id)
        if account is None:
            raise NotFound(f"no account for user {posting.user_id}")
        if posting.idempotency_key in self._state.entries:
            return None
        balance = account.balance + posting.credits
        if not posting.may_go_negative and balance - account.held < 0:
            raise refusal(posting)
        mine = self._lots_of(posting.user_id)
        allocations = consume(posting, mine) if posting.credits < 0 else []
        entry = in_utc(
            LedgerEntry(
                id=self._state.last_entry_id + 1,
                user_id=posting.user_id,
                credits=posting.credits,
                kind=posting.kind,
                reference_type=posting.reference_type,
                reference_id=posting.reference_id,
                idempotency_key=posting.idempotency_key,
                balance_after=balance,
                created_at=now,
                expires_at=posting.expires_at,
            )
        )
        self._state.last_entry_id = entry.id
        self._state.entries[entry.idempotency_key] = entry
        self._state.accounts[posting.user_id] = replace(account, balance=balance)
        if posting.credits > 0:
            allocations, own = refill(posting, balance)
            self._state.lots[entry.id] = Lot(
                entry_id=entry.id,
                user_id=entry.user_id,
                credits=entry.credits,
                remaining=own,
                expires_at=entry.expires_at,
                kind=entry.kind,
                idempotency_key=entry.idempotency_key,
            )
        if allocations:
            self._spend(entry.id, allocations)
        return entry

    def _spend(self, entry_id: int, allocations: list[Allocation]) -> None:
        """Lower the consumed lots (a refill's negative allocations raise them)."""
        for lot_id, taken in allocations:
            lot = self._state.lots[lot_id]
            self._state.lots[lot_id] = replace(lot, remaining=lot.remaining - taken)
        self._state.allocations[entry_id] = tuple(allocations)

    def _lots_of(self, user_id: str) -> list[Lot]:
        mine = (lot for lot in self._state.lots.values() if lot.user_id == user_id)
        return sorted((lot for lot in mine if lot.remaining > 0), key=consumption_order)

    async def lot_for_key(self, idempotency_key: str) -> Lot | None:
        entry = self._state.entries.get(idempotency_key)
        return None if entry is None else self._state.lots.get(entry.id)

    async def open_lots(self, user_id: str) -> Sequence[Lot]:
        return self._lots_of(user_id)

    async def lots(self, entry_ids: Sequence[int]) -> Sequence[Lot]:
        return [self._state.lots[i] for i in entry_ids if i in self._state.lots]

    async def allocations(self, entry_id: int) -> Sequence[Allocation]:
        return list(self._state.allocations.get(entry_id, ()))

    async def expired_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        check_limit(limit)
        now = utc(now)
        expired = (
            lot
            for lot in self._state.lots.values()
            if lot.expires_at is not None and lot.expires_at <= now and lot.remaining > 0
        )
        return sorted(expired, key=consumption_order)[:limit]

    async def account(self, user_id: str) -> Account | None:
        return self._state.accounts.get(user_id)

    async def entries(self, user_id: str, limit: int, cursor: str | None) -> Page[LedgerEntry]:
        check_limit(limit)
        before = decode_int(cursor) if cursor is not None else None
        mine = sorted(
            (
                entry
                for entry in self._state.entries.values()
                if entry.user_id == user_id and (before is None or entry.id < before)
            ),
            key=lambda entry: entry.id,
            reverse=True,
        )
        items = mine[:limit]
        next_cursor = encode_cursor(str(items[-1].id)) if len(mine) > limit else None
        return Page(items, next_cursor)

    async def verify(self) -> Sequence[LedgerMismatch]:
        sums: dict[str, int] = {}
        for entry in self._state.entries.values():
            sums[entry.user_id] = sums.get(entry.user_id, 0) + entry.credits
        balances: list[LedgerMismatch] = [
            BalanceMismatch(user_id, account.balance, sums.get(user_id, 0))
            for user_id, account in sorted(self._state.accounts.items())
            if account.balance != sums.get(user_id, 0)
        ]
        return balances + self._lot_mismatches(sums)

    def _lot_mismatches(self, sums: dict[str, int]) -> list[LotMismatch]:
        unspent: dict[str, int] = {}
        allocated: dict[int, int] = {}
        for lot in self._state.lots.values():
            unspent[lot.user_id] = unspent.get(lot.user_id, 0) + lot.remaining
        for allocations in self._state.allocations.values():
            for lot_id, taken in allocations:
                allocated[lot_id] = allocated.get(lot_id, 0) + taken
        over_consumed: list[tuple[str, OverConsumedLot]] = []
        for lot in self._state.lots.values():
            taken = allocated.get(lot.entry_id, 0)
            if is_over_consumed(lot.credits, taken, lot.remaining):
                found = OverConsumedLot(lot.entry_id, lot.credits, taken, lot.remaining)
                over_consumed.append((lot.user_id, found))
        totals = [(user_id, summed, unspent.get(user_id, 0)) for user_id, summed in sums.items()]
        return lot_mismatches(totals, over_consumed)

    async def find_entry(self, idempotency_key: str) -> LedgerEntry | None:
        return self._state.entries.get(idempotency_key)

    async def entries_since(
        self, kind: EntryKind, since: datetime, after_id: int, limit: int
    ) -> Sequence[LedgerEntry]:
        since = utc(since)
        found = (
            entry
            for entry in self._state.entries.values()
            if entry.kind is kind and entry.created_at >= since and entry.id > after_id
        )
        return sorted(found, key=lambda entry: entry.id)[:limit]
