"""The ledger in memory, with the SQL adapter's semantics and errors.

Order of checks mirrors the SQL ``post``: a missing account is ``NotFound``, a known
idempotency key is "already done" (None), then an uncovered debit is refused
(``domain.lots.covers``) and a stale expiry is ``LotChanged``. Lots are consumed by
the same ``domain.lots`` rule as on SQL (the lots' reads: ``lots.py``; the audit's:
``audit.py``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapters.memory.lots import open_lots_of
from adapters.memory.state import MemoryState, in_utc
from adapters.pagination import check_limit, decode_int, encode_cursor
from application.ports import Page
from domain.errors import NotFound
from domain.ledger import SPENT_KINDS, Account, Allocation, LedgerEntry, Lot, Posting
from domain.lots import consume, covers, refill, refusal


def spent_since(state: MemoryState, user_id: str, since: datetime) -> int:
    """Credits ``user_id`` spent (usage debits, hold captures) since ``since``."""
    return -sum(
        e.credits
        for e in state.entries.values()
        if e.user_id == user_id and e.kind in SPENT_KINDS and e.created_at >= since
    )


class MemoryLedgerRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def open_account(self, user_id: str) -> None:
        self._state.accounts.setdefault(user_id, Account(user_id, 0))

    async def lock_account(self, user_id: str) -> None:
        """Nothing to lock: the store's lock already runs units of work in turn."""

    async def post(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        account = self._state.accounts.get(posting.user_id)
        if account is None:
            raise NotFound(f"no account for user {posting.user_id}")
        if posting.idempotency_key in self._state.entries:
            return None
        if not covers(account, posting):
            raise refusal(posting)
        balance = account.balance + posting.credits
        mine = open_lots_of(self._state, posting.user_id)
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

    async def account(self, user_id: str) -> Account | None:
        return self._state.accounts.get(user_id)

    async def account_and_spent(self, user_id: str, since: datetime) -> tuple[Account, int] | None:
        account = self._state.accounts.get(user_id)
        if account is None:
            return None
        return account, spent_since(self._state, user_id, since)

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
