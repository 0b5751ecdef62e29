"""Payments and users in memory (processed events and refunds: ``events.py``).

Same uniqueness rules and errors as the SQL adapter. ``Payment`` and ``User`` are
mutable, so they are copied on the way in and out: changing an object a repository
returned changes nothing until ``save``, exactly as with a database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc, utc
from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from application.ports import Page
from application.webhooks.events import PaymentRef
from domain.errors import Conflict, EmailTaken, NotFound, RequestInProgress
from domain.payment import OPEN, Payment
from domain.sweep import is_stale
from domain.user import ApiKey, User


class MemoryPaymentRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, payment: Payment) -> None:
        stored = in_utc(payment)
        if payment.client_key is not None and await self.find_by_client_key(
            payment.user_id, payment.client_key
        ):
            raise RequestInProgress("another request with this Idempotency-Key created a payment")
        if payment.id in self._state.payments or any(
            _same_gateway_ids(payment, other) for other in self._state.payments.values()
        ):
            raise Conflict(f"payment {payment.id} or its gateway ids already exist")
        self._state.payments[payment.id] = stored

    async def save(self, payment: Payment) -> None:
        stored = self._state.payments.get(payment.id)
        if stored is None:
            raise NotFound(f"no payment {payment.id}")
        self._state.payments[payment.id] = in_utc(
            replace(payment, user_id=stored.user_id, created_at=stored.created_at)
        )

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        found = self._state.payments.get(payment_id)
        return None if found is None else copy(found)

    async def find_by_session(self, session_id: str, *, for_update: bool = False) -> Payment | None:
        return self._find(lambda p: p.stripe_session_id == session_id)

    async def find_by_intent(self, intent_id: str, *, for_update: bool = False) -> Payment | None:
        return self._find(lambda p: p.stripe_payment_intent_id == intent_id)

    async def find_by_client_key(self, user_id: str, client_key: str) -> Payment | None:
        return self._find(lambda p: p.user_id == user_id and p.client_key == client_key)

    async def complete_open(
        self, ref: PaymentRef, amount: int | None, currency: str | None, now: datetime
    ) -> Payment | None:
        if ref.session_id:
            payment = await self.find_by_session(ref.session_id)
        else:
            payment = await self.find_by_intent(ref.intent_id) if ref.intent_id else None
        if payment is None or payment.status not in OPEN or not payment.matches(amount, currency):
            return None
        payment.complete(now)
        if payment.stripe_payment_intent_id is None:
            payment.stripe_payment_intent_id = ref.intent_id
        await self.save(payment)
        return payment

    async def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Page[Payment]:
        check_limit(limit)
        before = decode_time_and_id(cursor) if cursor is not None else None
        mine = sorted(
            (
                p
                for p in self._state.payments.values()
                if p.user_id == user_id and (before is None or (p.created_at, p.id) < before)
            ),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
        items = [copy(p) for p in mine[:limit]]
        next_cursor = None
        if len(mine) > limit:
            next_cursor = encode_cursor(items[-1].created_at.isoformat(), items[-1].id)
        return Page(items, next_cursor)

    async def claim_stale(
        self, now: datetime, intents_created_before: datetime, lease_until: datetime, limit: int
    ) -> Sequence[Payment]:
        leases = self._state.sweep_leases
        claimed = [
            copy(p)
            for p in self._state.payments.values()
            if is_stale(p, now, intents_created_before)
            and (p.id not in leases or leases[p.id] <= now)
        ][:limit]
        for payment in claimed:
            leases[payment.id] = utc(lease_until)
        return claimed

    async def has_purchased(self, user_id: str) -> bool:
        return any(p.user_id == user_id and p.is_paid for p in self._state.payments.values())

    def _find(self, matches: Callable[[Payment], bool]) -> Payment | None:
        found = next((p for p in self._state.payments.values() if matches(p)), None)
        return None if found is None else copy(found)


def _same_gateway_ids(payment: Payment, other: Payment) -> bool:
    session, intent = payment.stripe_session_id, payment.stripe_payment_intent_id
    return (session is not None and other.stripe_session_id == session) or (
        intent is not None and other.stripe_payment_intent_id == intent
    )


class MemoryUserRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, user: User) -> None:
        stored = in_utc(user)
        if any(other.email == user.email for other in self._state.users.values()):
            raise EmailTaken(f"{user.email} is already registered")
        taken_code = user.referral_code is not None and any(
            other.referral_code == user.referral_code for other in self._state.users.values()
        )
        if user.id in self._state.users or taken_code:
            raise Conflict(f"user {user.id} or referral code {user.referral_code} exists")
        self._state.users[user.id] = stored

    async def get(self, user_id: str) -> User | None:
        found = self._state.users.get(user_id)
        return None if found is None else copy(found)

    async def find_by_referral_code(self, code: str) -> User | None:
        found = next((u for u in self._state.users.values() if u.referral_code == code), None)
        return None if found is None else copy(found)

    async def add_api_key(self, key: ApiKey) -> None:
        """Like the SQL foreign key, a key needs its user (there: an IntegrityError)."""
        stored = in_utc(key)
        if key.user_id not in self._state.users:
            raise NotFound(f"no user {key.user_id}")
        clash = key.id in self._state.api_keys or any(
            other.key_hash == key.key_hash for other in self._state.api_keys.values()
        )
        if clash:
            raise Conflict(f"api key {key.id} already exists")
        self._state.api_keys[key.id] = stored

    async def find_key_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        key = next(
            (
                key
                for key in self._state.api_keys.values()
                if key.key_hash == key_hash and key.revoked_at is None
            ),
            None,
        )
        user = None if key is None else self._state.users.get(key.user_id)
        return None if key is None or user is None else (key, user)

    async def count_active_api_keys(self, user_id: str) -> int:
        keys = self._state.api_keys.values()
        return sum(key.user_id == user_id and key.revoked_at is None for key in keys)

    async def list_api_keys(self, user_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        check_limit(limit)
        after = decode_time_and_id(cursor) if cursor is not None else None
        mine = sorted(
            (
                key
                for key in self._state.api_keys.values()
                if key.user_id == user_id and (after is None or (key.created_at, key.id) > after)
            ),
            key=lambda key: (key.created_at, key.id),
        )
        items = mine[:limit]
        next_cursor = None
        if len(mine) > limit:
            next_cursor = encode_cursor(items[-1].created_at.isoformat(), items[-1].id)
        return Page(items, next_cursor)

    async def revoke_api_key(self, user_id: str, key_id: str, now: datetime) -> bool:
        key = self._state.api_keys.get(key_id)
        if key is None or key.user_id != user_id:
            return False
        if key.revoked_at is None:
            self._state.api_keys[key_id] = replace(key, revoked_at=utc(now))
        return True
