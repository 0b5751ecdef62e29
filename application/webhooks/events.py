"""The gateway events we act on, one class per kind, in our words.

The gateway adapter translates each verified event into one of these; the handler
table (``handlers.py``) is keyed by class. Only ``type`` keeps the gateway's own
name for the event, to be recorded with it. An event we do not act on arrives as
``Unhandled``; it is still recorded, so a redelivery is recognised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from application.refunds.gateway import GatewayRefund
from application.subscriptions.gateway import GatewayInvoice, InvoiceRef
from domain.subscription import SubscriptionSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayEvent:
    """What every verified event carries: its id (claimed once) and the gateway's type."""

    event_id: str
    type: str
    created_at: datetime | None = None
    livemode: bool = False


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """How a gateway object names one of our payments: its ids, and the metadata we set.

    The metadata alone is never trusted: ``find_payment`` checks it against the ids
    stored and the user.
    """

    session_id: str | None = None
    intent_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentEvent(GatewayEvent):
    """An event about one of our payments (a Checkout Session, PaymentIntent or refund)."""

    payment: PaymentRef


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentSucceeded(PaymentEvent):
    """The money arrived: a PaymentIntent succeeded, or a Checkout's delayed payment did.

    ``amount``/``currency`` are what the gateway took; they are checked, never granted.
    """

    amount: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutCompleted(PaymentEvent):
    """The customer finished a Checkout; ``paid`` is False for a delayed payment method."""

    paid: bool
    amount: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFailed(PaymentEvent):
    """An attempt failed (a decline, or a Checkout's delayed payment that never came)."""

    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentCanceled(PaymentEvent):
    """The PaymentIntent was canceled: it can never be paid."""

    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutExpired(PaymentEvent):
    """The Checkout ran out of time unpaid."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundsReported(PaymentEvent):
    """Refunds of a payment were made or changed status.

    ``refunds`` lists those the event names, or is None when the gateway sent none (or
    only part of a list) and they must be listed at the gateway; ``amount_refunded``
    is the cumulative total refunded when the event says it. ``invoice`` is the invoice
    the payment paid, when the payment is no purchase of ours (learnt before the
    transaction).
    """

    refunds: tuple[GatewayRefund, ...] | None = None
    currency: str | None = None
    amount_refunded: int | None = None
    invoice: InvoiceRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeEvent(GatewayEvent):
    """An event of dispute ``dispute_id`` of the charge of ``payment`` (the base of the
    four dispute kinds, each of which has its handler)."""

    payment: PaymentRef
    dispute_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeOpened(DisputeEvent):
    """The customer disputed the charge: its credits are held until the outcome."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeClosed(DisputeEvent):
    """The dispute ended: ``won`` (the money stays) or lost (it went back)."""

    won: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeFundsWithdrawn(DisputeEvent):
    """The disputed amount was taken from the balance while the dispute is decided."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeFundsReinstated(DisputeEvent):
    """The disputed amount came back (the dispute is being won)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionEvent(GatewayEvent):
    """An event about a subscription. ``snapshot`` is the subscription as the event (or,
    after the handler's preparation, the gateway now) reports it."""

    subscription_id: str | None
    snapshot: SubscriptionSnapshot | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionUpdated(SubscriptionEvent):
    """A subscription was created or changed (plan, status, period, cancellation)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionDeleted(SubscriptionEvent):
    """A subscription ended: canceled now, or at the end of its period."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionCheckoutCompleted(SubscriptionEvent):
    """A Checkout in subscription mode finished. It links the subscription to its user;
    it never grants: the subscription's first invoice does (docs/failure-modes.md #1)."""

    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupCompleted(GatewayEvent):
    """A Checkout in setup mode finished: the customer saved a card for auto top-up.

    ``ours`` says the session carries the metadata we set on setup sessions; only those
    change a customer's default. ``payment_method_id`` is what the SetupIntent saved,
    learnt (and made the customer's default) before the transaction.
    """

    session_id: str | None
    customer_id: str | None
    setup_intent_id: str | None
    ours: bool = False
    payment_method_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceEvent(GatewayEvent):
    invoice: GatewayInvoice
    snapshot: SubscriptionSnapshot | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoicePaid(InvoiceEvent):
    """An invoice was paid: a subscription's period (or an upgrade) is paid for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoicePaymentFailed(InvoiceEvent):
    """An attempt to pay an invoice failed; the gateway retries it later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unhandled(GatewayEvent):
    """An event of a type we do not act on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unusable(GatewayEvent):
    """A verified event that can never be applied: an id or type longer than the gateway
    ever sends, or text no database stores (a NUL byte).

    The adapter gives it an ``event_id`` and ``type`` that can be recorded (a key derived
    from an id that cannot be), so a redelivery is recognised; ``reason`` says what was
    wrong.
    """

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownObject(GatewayEvent):
    """An event about an object the gateway account itself does not know (its refunds
    cannot be listed): no payment of ours can be matched to it, now or later."""

    object_id: str
