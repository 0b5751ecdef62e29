"""The ledger in memory, with the SQL adapter's semantics and errors.

Order of checks mirrors the SQL ``post``: a missing account is ``NotFound``, a known
idempotency key is "already done" (None), then an uncovered debit is
``InsufficientCredits``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc
from adapters.pagination import check_limit, decode_int, encode_cursor
from application.ports import Page
from domain.errors import InsufficientCredits, NotFound
from domain.ledger import Account, BalanceMismatch, LedgerEntry, Posting


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
            raise InsufficientCredits(
                f"user {posting.user_id} cannot cover {-posting.credits} credits"
            )
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
        return entry

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

    async def verify(self) -> Sequence[BalanceMismatch]:
        sums: dict[str, int] = {}
        for entry in self._state.entries.values():
            sums[entry.user_id] = sums.get(entry.user_id, 0) + entry.credits
        return [
            BalanceMismatch(user_id, account.balance, sums.get(user_id, 0))
            for user_id, account in sorted(self._state.accounts.items())
            if account.balance != sums.get(user_id, 0)
        ]
