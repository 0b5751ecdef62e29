"""Verify Stripe-signed webhook bodies and translate Stripe events into ours.

Stripe's vocabulary stops here: the application sees ``GatewayEvent`` only. The
sandbox gateway signs its events the Stripe way and is parsed by the same code, so
both gateways exercise one webhook path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import stripe

from adapters.stripe.fields import integer, metadata, object_id, text, timestamp
from adapters.stripe.mapping import intent_failure_reason
from application.gateway import EventKind, GatewayEvent, GatewayRefund, RefundStatus
from application.ports import InvalidSignature, MalformedEvent

SIGNATURE_TOLERANCE_SECONDS = 300

_KINDS: Mapping[str, EventKind] = {
    "checkout.session.completed": EventKind.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": EventKind.CHECKOUT_ASYNC_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.CHECKOUT_ASYNC_FAILED,
    "checkout.session.expired": EventKind.CHECKOUT_EXPIRED,
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "payment_intent.canceled": EventKind.PAYMENT_CANCELED,
    "charge.refunded": EventKind.REFUNDED,
    "charge.refund.updated": EventKind.REFUNDED,
    "refund.created": EventKind.REFUNDED,
    "refund.updated": EventKind.REFUNDED,
    "refund.failed": EventKind.REFUNDED,
}


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            payload.decode("utf-8"), secret, timestamp=timestamp
        )
    )


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Accept the body if any ``v1=`` value matches any configured secret (rotation)."""
    if not header:
        raise InvalidSignature("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("body is not UTF-8") from exc
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        except (ValueError, IndexError) as exc:
            raise InvalidSignature("malformed Stripe-Signature header") from exc
        return
    raise InvalidSignature("no signature matches a configured webhook secret")


def parse_event(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> GatewayEvent:
    verify_signature(payload, header, secrets, tolerance)
    try:
        raw = msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise MalformedEvent("body is not JSON") from exc
    return translate_event(raw)


def translate_event(raw: Any) -> GatewayEvent:
    """Reduce a Stripe event object (a dict) to a ``GatewayEvent``."""
    if not isinstance(raw, dict):
        raise MalformedEvent("event is not a JSON object")
    event_id, event_type = raw.get("id"), raw.get("type")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise MalformedEvent("event needs an id, a type and data.object")
    kind = _KINDS.get(event_type, EventKind.OTHER)
    base: dict[str, Any] = {
        "event_id": event_id,
        "type": event_type,
        "kind": kind,
        "created_at": timestamp(raw.get("created")),
        "metadata": metadata(obj.get("metadata")),
        "livemode": bool(raw.get("livemode", False)),
    }
    if event_type.startswith("checkout.session."):
        return GatewayEvent(**base, **_checkout_fields(obj, kind))
    if event_type.startswith("payment_intent."):
        return GatewayEvent(**base, **_intent_fields(obj))
    if event_type == "charge.refunded":
        return GatewayEvent(**base, **_charge_fields(obj))
    if kind is EventKind.REFUNDED:
        refund = _refund(obj)
        return GatewayEvent(
            **base,
            payment_intent_id=refund.payment_intent_id,
            currency=refund.currency,
            refunds=(refund,),
        )
    return GatewayEvent(**base)


def _checkout_fields(obj: Mapping[str, Any], kind: EventKind) -> dict[str, Any]:
    failed = kind is EventKind.CHECKOUT_ASYNC_FAILED
    return {
        "session_id": text(obj.get("id")),
        "payment_intent_id": object_id(obj.get("payment_intent")),
        "amount": integer(obj.get("amount_total")),
        "currency": text(obj.get("currency")),
        "paid": obj.get("payment_status") == "paid",
        "failure_reason": "async_payment_failed" if failed else None,
    }


def _intent_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payment_intent_id": text(obj.get("id")),
        "amount": integer(obj.get("amount_received")),
        "currency": text(obj.get("currency")),
        "paid": obj.get("status") == "succeeded",
        "failure_reason": intent_failure_reason(obj),
    }


def _charge_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    refunds_list = obj.get("refunds")
    refunds = None
    # A partial page would hide refunds: then they are listed at the gateway instead.
    listed = isinstance(refunds_list, dict) and isinstance(refunds_list.get("data"), list)
    if listed and not refunds_list.get("has_more"):
        refunds = tuple(_refund(r) for r in refunds_list["data"] if isinstance(r, dict))
    return {
        "payment_intent_id": object_id(obj.get("payment_intent")),
        "currency": text(obj.get("currency")),
        "amount_refunded": integer(obj.get("amount_refunded")),
        "refunds": refunds,
    }


def _refund(obj: Mapping[str, Any]) -> GatewayRefund:
    try:
        status = RefundStatus(obj.get("status") or "succeeded")
    except ValueError:
        # Unknown: neither reverse nor restore (``failed`` would give reversed credits
        # back, and record a never-seen refund as failed so its success is ignored).
        status = RefundStatus.REQUIRES_ACTION
    refund_id, amount = text(obj.get("id")), integer(obj.get("amount"))
    if refund_id is None or amount is None:
        raise MalformedEvent("refund needs an id and an amount")
    return GatewayRefund(
        refund_id=refund_id,
        payment_intent_id=object_id(obj.get("payment_intent")),
        amount=amount,
        currency=text(obj.get("currency")) or "",
        status=status,
    )
