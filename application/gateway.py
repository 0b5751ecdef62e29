"""What the application asks of a payment gateway, and the events it reports, in our words.

Gateway adapters (Stripe, sandbox, memory) translate their own vocabulary into these
types; nothing in application/ or domain/ knows Stripe's field names.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_id: str
    payment_intent_id: str
    amount: int
    reason: str | None
    idempotency_key: str


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REQUIRES_ACTION = "requires_action"


# Refund statuses whose money has left (or is leaving) the merchant: credits reverse.
REVERSING_REFUND_STATUSES = frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED})
# Final refund statuses whose money stayed with the merchant: a reversal is undone.
FAILED_REFUND_STATUSES = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    refund_id: str
    payment_intent_id: str | None
    amount: int
    currency: str
    status: RefundStatus


# ---- events ---------------------------------------------------------------------------


class EventKind(enum.StrEnum):
    CHECKOUT_COMPLETED = "checkout_completed"
    CHECKOUT_ASYNC_SUCCEEDED = "checkout_async_succeeded"
    CHECKOUT_ASYNC_FAILED = "checkout_async_failed"
    CHECKOUT_EXPIRED = "checkout_expired"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_CANCELED = "payment_canceled"
    REFUNDED = "refunded"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One verified gateway event, reduced to what the handler needs.

    ``amount``/``currency`` are what the gateway says was paid (Checkout's total or
    the PaymentIntent's amount received); ``paid`` is False for a Checkout completed
    with a delayed payment method. For ``REFUNDED`` events, ``refunds`` lists the
    refunds the event names (``None`` when the gateway sent none and they must be
    listed), and ``amount_refunded`` is the cumulative total refunded.
    """

    event_id: str
    type: str
    kind: EventKind
    created_at: datetime | None = None
    session_id: str | None = None
    payment_intent_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    amount: int | None = None
    currency: str | None = None
    paid: bool = False
    failure_reason: str | None = None
    amount_refunded: int | None = None
    refunds: tuple[GatewayRefund, ...] | None = None
    livemode: bool = False
