"""What the sandbox remembers about each object, and how it reads in our own types.

Records are mutable because they are the fake PSP's live state: one operation loads
them from the sandbox's store, changes them and writes them back in one transaction
(``adapters.sandbox.transact``). They never leave the sandbox (callers get our frozen
types or freshly decoded event dicts).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from adapters.sandbox.cards import CardError
from adapters.stripe.events import translate_event
from application.purchases.gateway import (
    CheckoutState,
    CheckoutStatus,
    IntentStatus,
    PaymentIntentState,
)
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A Stripe-looking id (``pi_3Qx...``): random, so restarts never reuse one."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass(slots=True)
class RefundRecord:
    id: str
    intent_id: str
    charge_id: str
    amount: int
    currency: str
    reason: str | None
    metadata: dict[str, str]
    created: int
    status: RefundStatus = RefundStatus.SUCCEEDED

    def state(self) -> GatewayRefund:
        return GatewayRefund(
            refund_id=self.id,
            payment_intent_id=self.intent_id,
            amount=self.amount,
            currency=self.currency,
            status=self.status,
        )


@dataclass(slots=True)
class IntentRecord:
    id: str
    amount: int
    currency: str
    description: str
    metadata: dict[str, str]
    client_secret: str
    created: int
    session_id: str | None = None
    status: IntentStatus = IntentStatus.REQUIRES_PAYMENT_METHOD
    amount_received: int = 0
    charge_id: str | None = None
    last_error: CardError | None = None
    cancellation_reason: str | None = None
    refunds: list[RefundRecord] = field(default_factory=list)
    invoice_id: str | None = None  # the subscription invoice this PaymentIntent pays

    @property
    def amount_refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    def failure_reason(self) -> str | None:
        """Read the same way ``translate_event`` reads a payment_intent event."""
        if self.status is IntentStatus.CANCELED:
            return self.cancellation_reason or "canceled"
        if self.last_error is None:
            return None
        return self.last_error.decline_code or self.last_error.code

    def state(self) -> PaymentIntentState:
        return PaymentIntentState(
            intent_id=self.id,
            status=self.status,
            amount=self.amount,
            amount_received=self.amount_received,
            currency=self.currency,
            client_secret=self.client_secret,
            metadata=dict(self.metadata),
            failure_reason=self.failure_reason(),
        )


@dataclass(slots=True)
class SessionRecord:
    id: str
    amount: int
    currency: str
    description: str
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    url: str
    expires_at: datetime
    created: int
    intent_id: str
    status: CheckoutStatus = CheckoutStatus.OPEN
    paid: bool = False
    customer_id: str | None = None  # the customer it was made for, if any

    def state(self) -> CheckoutState:
        return CheckoutState(
            session_id=self.id,
            status=self.status,
            paid=self.paid,
            amount=self.amount,
            currency=self.currency,
            payment_intent_id=self.intent_id,
            metadata=dict(self.metadata),
            url=self.url if self.status is CheckoutStatus.OPEN else None,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True, slots=True)
class SandboxEvent:
    """An event exactly as it is (re)delivered: the body bytes are the source of truth."""

    id: str
    type: str
    created: int
    body: bytes

    def payload(self) -> dict[str, Any]:
        """A fresh Stripe-shaped dict, so callers cannot alter what is kept."""
        decoded: dict[str, Any] = msgspec.json.decode(self.body)
        return decoded

    def translate(self) -> GatewayEvent:
        return translate_event(self.payload())


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a customer action did: a status and the events the sandbox produced.

    ``status`` is one of ``succeeded``, ``requires_action`` (3-D Secure), ``failed``
    (declined; the customer may retry), ``expired`` or ``canceled``; ``message`` is
    the text a checkout page shows.
    """

    status: str
    events: tuple[SandboxEvent, ...] = ()
    message: str | None = None

    def payloads(self) -> list[dict[str, Any]]:
        return [event.payload() for event in self.events]


@dataclass(frozen=True, slots=True)
class CheckoutDetails:
    """What the test checkout page shows about a session."""

    session_id: str
    status: CheckoutStatus
    amount: int
    currency: str
    description: str
    success_url: str
    cancel_url: str
