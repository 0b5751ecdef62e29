"""Spending, holds, key answers and disputes in memory, with the SQL adapter's semantics.

The store's lock already runs units of work one at a time, so ``open`` needs no row
lock; a claimed key is a pending answer (no ``result_id``) until the debit stores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.ledger import MemoryLedgerRepository
from adapters.memory.state import MemoryState, utc
from adapters.pagination import check_limit
from application.spending.ports import Opened
from domain.disputes import Dispute
from domain.errors import InsufficientCredits
from domain.holds import Hold
from domain.ledger import Account, LedgerEntry
from domain.spending import Debit, SpendRequest, StoredAnswer


class MemorySpendingLedger:
    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._ledger = MemoryLedgerRepository(state)

    async def open(
        self, user_id: str, requests: Sequence[SpendRequest], now: datetime
    ) -> Opened | None:
        account = self._state.accounts.get(user_id)
        if account is None:
            return None
        claimed = set()
        for request in requests:
            scoped = (user_id, request.idempotency_key)
            if scoped not in self._state.spend_requests:
                self._state.spend_requests[scoped] = StoredAnswer(
                    request.fingerprint, None, None, None
                )
                claimed.add(request.idempotency_key)
        expired = len(_expired_of(self._state, user_id, now))
        return Opened(account, frozenset(claimed), expired)

    async def debit(
        self, user_id: str, debits: Sequence[Debit], now: datetime
    ) -> Sequence[LedgerEntry]:
        account = self._state.accounts[user_id]
        total = sum(debit.credits for debit in debits)
        if account.available < total:
            raise InsufficientCredits(
                f"user {user_id} cannot cover {total} credits", available=account.available
            )
        entries = []
        for debit in debits:
            entry = await self._ledger.post(debit.posting(), now)
            assert entry is not None
            held = self._state.accounts[user_id].held
            answer = StoredAnswer(
                debit.fingerprint, str(entry.id), entry.balance_after, entry.balance_after - held
            )
            self._state.spend_requests[(user_id, debit.idempotency_key)] = answer
            entries.append(entry)
        return entries

    async def reserve(self, user_id: str, credits: int, now: datetime) -> Account | None:
        account = self._state.accounts[user_id]
        if account.available < credits:
            return None
        return self._set_held(account, account.held + credits)

    async def unreserve(self, user_id: str, credits: int, now: datetime) -> Account:
        account = self._state.accounts[user_id]
        return self._set_held(account, account.held - credits)

    def _set_held(self, account: Account, held: int) -> Account:
        after = replace(account, held=held)
        self._state.accounts[account.user_id] = after
        return after


class MemorySpendRequests:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def answers(self, user_id: str, keys: Sequence[str]) -> Mapping[str, StoredAnswer]:
        found = ((key, self._state.spend_requests.get((user_id, key))) for key in keys)
        return {key: answer for key, answer in found if answer is not None}

    async def answer(self, user_id: str, key: str, answer: StoredAnswer) -> None:
        self._state.spend_requests[(user_id, key)] = answer

    async def forget(self, user_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            self._state.spend_requests.pop((user_id, key), None)


class MemoryHoldRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, hold: Hold) -> None:
        self._state.holds[hold.id] = _utc(hold)

    async def get(self, hold_id: str, *, for_update: bool = False) -> Hold | None:
        return self._state.holds.get(hold_id)

    async def save(self, hold: Hold) -> None:
        self._state.holds[hold.id] = _utc(hold)

    async def for_reference(self, reference_id: str) -> Hold | None:
        found = (h for h in self._state.holds.values() if h.reference_id == reference_id)
        return next(found, None)

    async def expired_of(self, user_id: str, now: datetime) -> Sequence[Hold]:
        return _expired_of(self._state, user_id, now)

    async def claim_expired(self, now: datetime, limit: int) -> Sequence[Hold]:
        check_limit(limit)
        now = utc(now)
        expired = (h for h in self._state.holds.values() if h.is_active and h.is_expired(now))
        return sorted(expired, key=lambda h: (h.expires_at, h.id))[:limit]


class MemoryDisputeRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, dispute: Dispute) -> None:
        self._state.disputes[dispute.id] = dispute

    async def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None:
        return self._state.disputes.get(dispute_id)

    async def save(self, dispute: Dispute) -> None:
        self._state.disputes[dispute.id] = dispute


def _expired_of(state: MemoryState, user_id: str, now: datetime) -> list[Hold]:
    now = utc(now)
    mine = (h for h in state.holds.values() if h.user_id == user_id)
    return sorted((h for h in mine if h.is_active and h.is_expired(now)), key=lambda h: h.id)


def _utc(hold: Hold) -> Hold:
    return replace(
        hold,
        created_at=utc(hold.created_at),
        expires_at=None if hold.expires_at is None else utc(hold.expires_at),
        settled_at=None if hold.settled_at is None else utc(hold.settled_at),
    )
