"""Stripe objects translated into our gateway types.

Pure functions over plain dicts (``StripeObject.to_dict()``), so the Stripe vocabulary
stays in this package and the translation needs no network to be exercised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.stripe.fields import integer, metadata, object_id, text, timestamp
from application.purchases.gateway import (
    CheckoutCreated,
    CheckoutRequest,
    CheckoutState,
    CheckoutStatus,
    IntentStatus,
    PaymentIntentState,
)
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.gateway import MalformedEvent
from domain.errors import GatewayRejected


def checkout_created(session: Mapping[str, Any], req: CheckoutRequest) -> CheckoutCreated:
    url = text(session.get("url"))
    if url is None:
        # A replay of the same key would answer the same: retrying cannot help.
        raise GatewayRejected("Stripe created a checkout session without a hosted page url")
    return CheckoutCreated(
        session_id=str(session["id"]),
        url=url,
        expires_at=timestamp(session.get("expires_at")) or req.expires_at,
        payment_intent_id=object_id(session.get("payment_intent")),
    )


def checkout_state(session: Mapping[str, Any]) -> CheckoutState:
    return CheckoutState(
        session_id=str(session["id"]),
        status=CheckoutStatus(session["status"]),
        paid=session.get("payment_status") == "paid",
        amount=integer(session.get("amount_total")),
        currency=text(session.get("currency")),
        payment_intent_id=object_id(session.get("payment_intent")),
        metadata=metadata(session.get("metadata")),
        url=text(session.get("url")),
        expires_at=timestamp(session.get("expires_at")),
    )


def intent_state(intent: Mapping[str, Any]) -> PaymentIntentState:
    return PaymentIntentState(
        intent_id=str(intent["id"]),
        status=IntentStatus(intent["status"]),
        amount=int(intent["amount"]),
        amount_received=integer(intent.get("amount_received")) or 0,
        currency=str(intent["currency"]),
        client_secret=text(intent.get("client_secret")),
        metadata=metadata(intent.get("metadata")),
        failure_reason=intent_failure_reason(intent),
    )


def intent_failure_reason(intent: Mapping[str, Any]) -> str | None:
    """The decline code when there is one: it says more than the generic error code."""
    if intent.get("status") == "canceled":
        return text(intent.get("cancellation_reason")) or "canceled"
    error = intent.get("last_payment_error")
    if not isinstance(error, Mapping) or not error:
        return None
    return text(error.get("decline_code")) or text(error.get("code")) or "payment_failed"


def gateway_refund(refund: Mapping[str, Any]) -> GatewayRefund:
    """A refund object, answered by the API or named in an event."""
    refund_id, amount = text(refund.get("id")), integer(refund.get("amount"))
    if refund_id is None or amount is None:
        raise MalformedEvent("refund needs an id and an amount")
    return GatewayRefund(
        refund_id=refund_id,
        payment_intent_id=object_id(refund.get("payment_intent")),
        amount=amount,
        currency=text(refund.get("currency")) or "",
        status=_refund_status(refund.get("status") or "succeeded"),
    )


def _refund_status(value: Any) -> RefundStatus:
    """An unknown status neither reverses nor restores: ``failed`` would give reversed
    credits back, and record a never-seen refund as failed so its success is ignored."""
    try:
        return RefundStatus(value)
    except ValueError:
        return RefundStatus.REQUIRES_ACTION
