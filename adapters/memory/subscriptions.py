"""Subscriptions, their invoices, plan terms and gateway customers, in memory.

Same semantics as ``adapters.sqlalchemy.subscriptions``: ids are unique (``add``
answers False for a known one), a user's live subscription comes before their
ended ones, and customers are one per user, the first stored winning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from adapters.memory.state import in_utc, utc
from adapters.memory.subscriptions_state import SubscriptionsState
from domain.plans import Plan
from domain.subscription import Subscription, SubscriptionInvoice


class MemorySubscriptionRepository:
    def __init__(self, state: SubscriptionsState) -> None:
        self._state = state

    async def add(self, subscription: Subscription) -> bool:
        if subscription.id in self._state.subscriptions:
            return False
        self._state.subscriptions[subscription.id] = in_utc(subscription)
        return True

    async def save(self, subscription: Subscription) -> None:
        self._state.subscriptions[subscription.id] = in_utc(subscription)

    async def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        return self._state.subscriptions.get(subscription_id)

    async def for_user(self, user_id: str) -> Subscription | None:
        mine = [s for s in self._state.subscriptions.values() if s.user_id == user_id]
        mine.sort(key=lambda s: (s.is_live, s.created_at, s.id))
        return mine[-1] if mine else None

    async def add_invoice(self, invoice: SubscriptionInvoice) -> bool:
        if invoice.invoice_id in self._state.invoices:
            return False
        self._state.invoices[invoice.invoice_id] = in_utc(invoice)
        return True

    async def save_invoice(self, invoice: SubscriptionInvoice) -> None:
        self._state.invoices[invoice.invoice_id] = in_utc(invoice)

    async def get_invoice(self, invoice_id: str) -> SubscriptionInvoice | None:
        return self._state.invoices.get(invoice_id)

    async def invoice_for_payment(self, payment_intent_id: str) -> SubscriptionInvoice | None:
        found = (
            i for i in self._state.invoices.values() if i.payment_intent_id == payment_intent_id
        )
        return next(found, None)

    async def invoices_ending(
        self, subscription_id: str, period_end: datetime
    ) -> Sequence[SubscriptionInvoice]:
        end = utc(period_end)
        return self._of(subscription_id, lambda i: i.period_end == end)

    async def invoices_starting(
        self, subscription_id: str, period_start: datetime
    ) -> Sequence[SubscriptionInvoice]:
        start = utc(period_start)
        return self._of(subscription_id, lambda i: i.period_start == start)

    def _of(self, subscription_id: str, keep: object) -> list[SubscriptionInvoice]:
        assert callable(keep)
        found = [
            i
            for i in self._state.invoices.values()
            if i.subscription_id == subscription_id and keep(i)
        ]
        return sorted(found, key=lambda i: (i.paid_at, i.invoice_id))

    async def claim_checkout(
        self, user_id: str, claim_key: str, held_until: datetime, now: datetime
    ) -> bool:
        held = self._state.claims.get(user_id)
        if held is not None and held[0] != claim_key and held[1] > utc(now):
            return False
        self._state.claims[user_id] = (claim_key, utc(held_until))
        return True

    async def release_checkout(self, user_id: str, claim_key: str | None = None) -> None:
        held = self._state.claims.get(user_id)
        if held is not None and claim_key in (None, held[0]):
            del self._state.claims[user_id]

    async def record_plan(self, plan: Plan, now: datetime) -> None:
        self._state.plans[plan.price_id] = plan

    async def plans(self) -> Mapping[str, Plan]:
        return dict(self._state.plans)


class MemoryCustomerRepository:
    def __init__(self, state: SubscriptionsState) -> None:
        self._state = state

    async def get(self, user_id: str) -> str | None:
        return self._state.customers.get(user_id)

    async def add(self, user_id: str, customer_id: str, now: datetime) -> str:
        return self._state.customers.setdefault(user_id, customer_id)

    async def user_for(self, customer_id: str) -> str | None:
        owners = (u for u, c in self._state.customers.items() if c == customer_id)
        return next(owners, None)
