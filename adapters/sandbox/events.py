"""Stripe-shaped objects and events built from the sandbox's records.

Shapes follow Stripe's API at the version the Stripe adapter pins, limited to the
fields a webhook consumer reads, so the sandbox's events go through exactly the same
``adapters.stripe.events`` translation as Stripe's.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.sandbox.records import (
    IntentRecord,
    RefundRecord,
    SandboxEvent,
    SessionRecord,
    new_id,
)
from adapters.stripe.client import PINNED_API_VERSION
from application.purchases.gateway import CheckoutStatus


def session_object(session: SessionRecord) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "checkout.session",
        "mode": "payment",
        "status": session.status.value,
        "payment_status": "paid" if session.paid else "unpaid",
        "amount_subtotal": session.amount,
        "amount_total": session.amount,
        "currency": session.currency,
        "payment_intent": session.intent_id,
        "customer": session.customer_id,
        "metadata": dict(session.metadata),
        "success_url": session.success_url,
        "cancel_url": session.cancel_url,
        "url": session.url if session.status is CheckoutStatus.OPEN else None,
        "expires_at": int(session.expires_at.timestamp()),
        "created": session.created,
        "livemode": False,
    }


def intent_object(intent: IntentRecord) -> dict[str, Any]:
    return {
        "id": intent.id,
        "object": "payment_intent",
        "status": intent.status.value,
        "amount": intent.amount,
        "amount_received": intent.amount_received,
        "currency": intent.currency,
        "description": intent.description,
        "client_secret": intent.client_secret,
        "metadata": dict(intent.metadata),
        "latest_charge": intent.charge_id,
        "last_payment_error": intent.last_error.as_stripe() if intent.last_error else None,
        "cancellation_reason": intent.cancellation_reason,
        "created": intent.created,
        "livemode": False,
    }


def charge_object(intent: IntentRecord) -> dict[str, Any]:
    """The charge of a succeeded intent; its refunds newest first, as Stripe lists them."""
    refunded = intent.amount_refunded
    return {
        "id": intent.charge_id,
        "object": "charge",
        "status": "succeeded",
        "paid": True,
        "captured": True,
        "amount": intent.amount_received,
        "amount_captured": intent.amount_received,
        "amount_refunded": refunded,
        "refunded": refunded >= intent.amount_received,
        "currency": intent.currency,
        "payment_intent": intent.id,
        "metadata": dict(intent.metadata),
        "refunds": {
            "object": "list",
            "data": [refund_object(r) for r in reversed(intent.refunds)],
            "has_more": False,
            "total_count": len(intent.refunds),
            "url": f"/v1/charges/{intent.charge_id}/refunds",
        },
        "created": intent.created,
        "livemode": False,
    }


def refund_object(refund: RefundRecord) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "currency": refund.currency,
        "charge": refund.charge_id,
        "payment_intent": refund.intent_id,
        "reason": refund.reason,
        "status": refund.status.value,
        "metadata": dict(refund.metadata),
        "created": refund.created,
    }


def build_event(
    event_type: str, obj: dict[str, Any], created: int, event_id: str | None = None
) -> SandboxEvent:
    """Wrap ``obj`` in an event envelope and freeze it as the bytes to be delivered."""
    event_id = event_id or new_id("evt")
    envelope = {
        "id": event_id,
        "object": "event",
        "api_version": PINNED_API_VERSION,
        "type": event_type,
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    return SandboxEvent(event_id, event_type, created, msgspec.json.encode(envelope))
