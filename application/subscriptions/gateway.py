"""What subscriptions ask of a payment gateway, in our words.

The gateway owns billing (periods, invoices, retries); we ask it to start, change,
cancel and resume a subscription and read back its state as a
``SubscriptionSnapshot``. Every call that changes something carries an idempotency
key when the client sent one, so a retried request acts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.plans import Plan
from domain.subscription import InvoiceLine, SubscriptionSnapshot


@dataclass(frozen=True, slots=True)
class CustomerRequest:
    user_id: str
    email: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SubscriptionCheckoutRequest:
    """A hosted Checkout in subscription mode for one plan, for one stored customer."""

    user_id: str
    customer_id: str
    plan: Plan
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SubscriptionCheckoutCreated:
    session_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PlanChange:
    """Bill ``plan`` from now on; ``prorate`` charges the difference for the rest of the
    period at once (an upgrade), otherwise the new price starts with the next period."""

    subscription_id: str
    plan: Plan
    prorate: bool
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class GatewayInvoice:
    """An invoice as the gateway reports it; ``payment_intent_id`` is the payment that
    paid it, when known (refunds name that payment, not the invoice)."""

    invoice_id: str
    customer_id: str | None
    subscription_id: str | None
    billing_reason: str
    amount_paid: int
    currency: str
    lines: tuple[InvoiceLine, ...]
    payment_intent_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    """The invoice a payment paid, and whose it is (how a refund that overtakes the
    invoice's paid event learns that it must wait for it)."""

    invoice_id: str
    subscription_id: str | None
    customer_id: str | None


class SubscriptionReadGateway(Protocol):
    """What a webhook handler may read before its transaction."""

    async def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        """Raises ``NotFound`` for a subscription the gateway does not know."""
        ...

    async def invoice_payment_intent(self, invoice_id: str) -> str | None:
        """The PaymentIntent that paid the invoice, if any."""
        ...

    async def invoice_of_payment(self, payment_intent_id: str) -> InvoiceRef | None:
        """The invoice the PaymentIntent paid; None for a payment of no invoice."""
        ...


class SubscriptionGateway(SubscriptionReadGateway, Protocol):
    async def create_customer(self, request: CustomerRequest) -> str:
        """The new gateway customer's id (the key makes a retry return the same one)."""
        ...

    async def create_subscription_checkout(
        self, request: SubscriptionCheckoutRequest
    ) -> SubscriptionCheckoutCreated: ...

    async def change_subscription(self, change: PlanChange) -> SubscriptionSnapshot: ...

    async def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, idempotency_key: str | None
    ) -> SubscriptionSnapshot: ...

    async def resume_subscription(
        self, subscription_id: str, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        """Undo a cancellation at period end (not possible once it has ended)."""
        ...
