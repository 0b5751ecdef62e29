"""The subscriptions' repositories: subscriptions, their paid invoices, the plan terms
invoices are granted with, and the gateway customer of each user.

Part of the unit of work (``uow.subscriptions``, ``uow.customers``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.plans import Plan
from domain.subscription import Subscription, SubscriptionInvoice


class SubscriptionRepository(Protocol):
    async def add(self, subscription: Subscription) -> bool:
        """False when the subscription id is already recorded (another event won)."""
        ...

    async def save(self, subscription: Subscription) -> None: ...

    async def get(
        self, subscription_id: str, *, for_update: bool = False
    ) -> Subscription | None: ...

    async def for_user(self, user_id: str) -> Subscription | None:
        """The user's live subscription, else their most recent one."""
        ...

    async def add_invoice(self, invoice: SubscriptionInvoice) -> bool:
        """False when the invoice is already recorded: its credits were granted."""
        ...

    async def save_invoice(self, invoice: SubscriptionInvoice) -> None: ...

    async def get_invoice(self, invoice_id: str) -> SubscriptionInvoice | None: ...

    async def invoice_for_payment(self, payment_intent_id: str) -> SubscriptionInvoice | None:
        """The invoice a PaymentIntent paid (how refunds find their invoice)."""
        ...

    async def invoices_ending(
        self, subscription_id: str, period_end: datetime
    ) -> Sequence[SubscriptionInvoice]:
        """The subscription's invoices for the period ending at ``period_end``."""
        ...

    async def invoices_starting(
        self, subscription_id: str, period_start: datetime
    ) -> Sequence[SubscriptionInvoice]: ...

    async def claim_checkout(
        self, user_id: str, claim_key: str, held_until: datetime, now: datetime
    ) -> bool:
        """Take the user's one subscription-Checkout claim until ``held_until``; False
        while another key holds it unlapsed. Atomic: of concurrent claims one wins."""
        ...

    async def release_checkout(self, user_id: str, claim_key: str | None = None) -> None:
        """Give the claim back (only if ``claim_key`` holds it, when one is given)."""
        ...

    async def record_plan(self, plan: Plan, now: datetime) -> None:
        """Keep ``plan``'s terms under its price id (a shared catalogue): invoices are
        granted with them, whatever configuration the webhook's process has."""
        ...

    async def plans(self) -> Mapping[str, Plan]:
        """Every recorded plan, by gateway price id."""
        ...


class CustomerRepository(Protocol):
    """One gateway customer per user, created once and reused."""

    async def get(self, user_id: str) -> str | None: ...

    async def add(self, user_id: str, customer_id: str, now: datetime) -> str:
        """Store the user's customer; returns the one stored (the first one wins)."""
        ...

    async def user_for(self, customer_id: str) -> str | None:
        """Whose customer this is; None for customers this service did not create."""
        ...
