"""What purchases ask of a payment gateway: hosted Checkout, and PaymentIntents.

Phrased in our words; the adapters (Stripe, sandbox, memory) translate their own
vocabulary into these types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    payment_id: str
    user_id: str
    amount: int
    currency: str
    credits: int
    description: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str
    # Set for an auto top-up's authentication Checkout: the user's gateway customer (its
    # saved card is offered) and the top-up it pays.
    customer_id: str | None = None
    auto_top_up_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutCreated:
    session_id: str
    url: str
    expires_at: datetime
    payment_intent_id: str | None = None


class CheckoutStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CheckoutState:
    session_id: str
    status: CheckoutStatus
    paid: bool
    amount: int | None
    currency: str | None
    payment_intent_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentIntentRequest:
    payment_id: str
    user_id: str
    amount: int
    currency: str
    credits: int
    description: str
    idempotency_key: str


class IntentStatus(enum.StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class PaymentIntentState:
    intent_id: str
    status: IntentStatus
    amount: int
    amount_received: int
    currency: str
    client_secret: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str | None = None


class CheckoutGateway(Protocol):
    """Hosted Checkout sessions. The create call carries our idempotency key."""

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated: ...

    async def get_checkout(self, session_id: str) -> CheckoutState: ...

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        """Close an open session so it can no longer be paid."""
        ...


class IntentGateway(Protocol):
    """PaymentIntents paid in our own page. The create call carries our idempotency key."""

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState: ...

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState: ...

    async def cancel_payment_intent(self, intent_id: str) -> PaymentIntentState: ...


class PurchaseGateway(CheckoutGateway, IntentGateway, Protocol):
    """Both ways to pay, for the jobs that settle a payment of either kind."""
