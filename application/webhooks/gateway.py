"""What the webhook path asks of a payment gateway: its events, verified and translated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from application.auto_top_up.cards import SetupCompletionGateway
from application.purchases.gateway import IntentGateway
from application.refunds.gateway import RefundGateway
from application.subscriptions.gateway import SubscriptionReadGateway
from application.webhooks.events import GatewayEvent


class InvalidSignature(Exception):
    code = "invalid_signature"


class MalformedEvent(Exception):
    code = "malformed_event"


class EventGateway(Protocol):
    def parse_event(self, payload: bytes, signature: str | None) -> GatewayEvent:
        """Verify the signature over the raw body and translate the event.

        Raises ``InvalidSignature`` or ``MalformedEvent``.
        """
        ...

    async def list_events(self, created_after: datetime) -> Sequence[GatewayEvent]:
        """Events the gateway kept since ``created_after``, oldest first (reconciliation)."""
        ...


class WebhookGateway(
    EventGateway,
    RefundGateway,
    IntentGateway,
    SubscriptionReadGateway,
    SetupCompletionGateway,
    Protocol,
):
    """The events, and what a handler may do before its transaction: read the refunds and
    the PaymentIntent a refund report names, a subscription's current state and the
    payment of an invoice; make a saved card the customer's default."""
