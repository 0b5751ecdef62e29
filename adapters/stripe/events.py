"""Verify Stripe-signed webhook bodies and translate Stripe events into ours.

Stripe's vocabulary stops here: the application sees the classes of
``application.webhooks.events`` only. The sandbox gateway signs its events the Stripe
way and is parsed by the same code, so both gateways exercise one webhook path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from adapters.json_nesting import too_deep_or_not_json
from adapters.stripe.billing import gateway_invoice, subscription_snapshot
from adapters.stripe.fields import integer, metadata, object_id, text, timestamp
from adapters.stripe.mapping import gateway_refund, intent_failure_reason
from adapters.stripe.params import SETUP_PURPOSE
from adapters.stripe.signatures import SIGNATURE_TOLERANCE_SECONDS, verify_signature
from adapters.stripe.storable import usable
from application.webhooks.events import (
    CheckoutCompleted,
    CheckoutExpired,
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    GatewayEvent,
    InvoicePaid,
    InvoicePaymentFailed,
    PaymentCanceled,
    PaymentFailed,
    PaymentRef,
    PaymentSucceeded,
    RefundsReported,
    SetupCompleted,
    SubscriptionCheckoutCompleted,
    SubscriptionDeleted,
    SubscriptionUpdated,
    Unhandled,
)
from application.webhooks.gateway import MalformedEvent

Envelope = dict[str, Any]
"""The fields every event shares, as keyword arguments of its class."""
Obj = Mapping[str, Any]


def parse_event(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> GatewayEvent:
    """``now``: the clock the signature's age is measured on (the wall clock by default)."""
    verify_signature(payload, header, secrets, tolerance, now)
    return decode_event(payload)


def decode_event(payload: bytes) -> GatewayEvent:
    """A verified body, translated; a signed body may still nest past the decoder."""
    if too_deep_or_not_json(payload):
        raise MalformedEvent("body is not JSON or nests too deeply")
    try:
        raw = msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise MalformedEvent("body is not JSON") from exc
    return translate_event(raw)


def translate_event(raw: Any) -> GatewayEvent:
    """Reduce a Stripe event object (a dict) to the class of its kind (``Unusable`` when
    it carries what can never be recorded, see ``storable``)."""
    if not isinstance(raw, dict):
        raise MalformedEvent("event is not a JSON object")
    event_id, event_type = raw.get("id"), raw.get("type")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise MalformedEvent("event needs an id, a type and data.object")
    envelope: Envelope = {
        "event_id": event_id,
        "type": event_type,
        "created_at": timestamp(raw.get("created")),
        "livemode": bool(raw.get("livemode", False)),
    }
    translate = _TRANSLATIONS.get(event_type)
    return usable(Unhandled(**envelope) if translate is None else translate(envelope, obj))


def _session_ref(session: Obj) -> PaymentRef:
    return PaymentRef(
        session_id=text(session.get("id")),
        intent_id=object_id(session.get("payment_intent")),
        metadata=metadata(session.get("metadata")),
    )


def _intent_ref(intent: Obj) -> PaymentRef:
    return PaymentRef(intent_id=text(intent.get("id")), metadata=metadata(intent.get("metadata")))


def _checkout_completed(envelope: Envelope, session: Obj) -> GatewayEvent:
    if session.get("mode") == "setup":
        return _setup_completed(envelope, session)
    if session.get("mode") == "subscription":
        return SubscriptionCheckoutCompleted(
            **envelope,
            subscription_id=object_id(session.get("subscription")),
            session_id=text(session.get("id")),
        )
    return CheckoutCompleted(
        **envelope,
        payment=_session_ref(session),
        paid=session.get("payment_status") == "paid",
        amount=integer(session.get("amount_total")),
        currency=text(session.get("currency")),
    )


def _setup_completed(envelope: Envelope, session: Obj) -> GatewayEvent:
    """Our setup sessions say so in their metadata (``StripeCards.create_setup_session``)."""
    return SetupCompleted(
        **envelope,
        session_id=text(session.get("id")),
        customer_id=object_id(session.get("customer")),
        setup_intent_id=object_id(session.get("setup_intent")),
        ours=metadata(session.get("metadata")).get("purpose") == SETUP_PURPOSE,
    )


def _checkout_paid_later(envelope: Envelope, session: Obj) -> GatewayEvent:
    return PaymentSucceeded(
        **envelope,
        payment=_session_ref(session),
        amount=integer(session.get("amount_total")),
        currency=text(session.get("currency")),
    )


def _checkout_failed_later(envelope: Envelope, session: Obj) -> GatewayEvent:
    return PaymentFailed(**envelope, payment=_session_ref(session), reason="async_payment_failed")


def _checkout_expired(envelope: Envelope, session: Obj) -> GatewayEvent:
    return CheckoutExpired(**envelope, payment=_session_ref(session))


def _intent_succeeded(envelope: Envelope, intent: Obj) -> GatewayEvent:
    return PaymentSucceeded(
        **envelope,
        payment=_intent_ref(intent),
        amount=integer(intent.get("amount_received")),
        currency=text(intent.get("currency")),
    )


def _intent_failed(envelope: Envelope, intent: Obj) -> GatewayEvent:
    reason = intent_failure_reason(intent)
    return PaymentFailed(**envelope, payment=_intent_ref(intent), reason=reason)


def _intent_canceled(envelope: Envelope, intent: Obj) -> GatewayEvent:
    reason = intent_failure_reason(intent)
    return PaymentCanceled(**envelope, payment=_intent_ref(intent), reason=reason)


def _charge_refunded(envelope: Envelope, charge: Obj) -> GatewayEvent:
    listed = charge.get("refunds")
    refunds = None
    # A partial page would hide refunds: then they are listed at the gateway instead.
    whole = isinstance(listed, dict) and isinstance(listed.get("data"), list)
    if whole and not listed.get("has_more"):
        refunds = tuple(gateway_refund(r) for r in listed["data"] if isinstance(r, dict))
    return RefundsReported(
        **envelope,
        payment=PaymentRef(
            intent_id=object_id(charge.get("payment_intent")),
            metadata=metadata(charge.get("metadata")),
        ),
        refunds=refunds,
        currency=text(charge.get("currency")),
        amount_refunded=integer(charge.get("amount_refunded")),
    )


def _refund_changed(envelope: Envelope, obj: Obj) -> GatewayEvent:
    refund = gateway_refund(obj)
    return RefundsReported(
        **envelope,
        payment=PaymentRef(
            intent_id=refund.payment_intent_id, metadata=metadata(obj.get("metadata"))
        ),
        refunds=(refund,),
        currency=refund.currency,
    )


def _dispute_ref(dispute: Obj) -> dict[str, Any]:
    """A dispute names its charge's PaymentIntent; its metadata is not ours."""
    dispute_id = text(dispute.get("id"))
    if dispute_id is None:
        raise MalformedEvent("a dispute event needs the dispute's id")
    return {
        "dispute_id": dispute_id,
        "payment": PaymentRef(intent_id=object_id(dispute.get("payment_intent"))),
    }


def _dispute_created(envelope: Envelope, dispute: Obj) -> GatewayEvent:
    return DisputeOpened(**envelope, **_dispute_ref(dispute))


def _dispute_closed(envelope: Envelope, dispute: Obj) -> GatewayEvent:
    # "warning_closed" ends an inquiry that never took money: as good as won.
    won = dispute.get("status") != "lost"
    return DisputeClosed(**envelope, **_dispute_ref(dispute), won=won)


def _dispute_withdrawn(envelope: Envelope, dispute: Obj) -> GatewayEvent:
    return DisputeFundsWithdrawn(**envelope, **_dispute_ref(dispute))


def _dispute_reinstated(envelope: Envelope, dispute: Obj) -> GatewayEvent:
    return DisputeFundsReinstated(**envelope, **_dispute_ref(dispute))


def _subscription_updated(envelope: Envelope, obj: Obj) -> GatewayEvent:
    snapshot = subscription_snapshot(obj)
    return SubscriptionUpdated(
        **envelope, subscription_id=snapshot.subscription_id, snapshot=snapshot
    )


def _subscription_deleted(envelope: Envelope, obj: Obj) -> GatewayEvent:
    snapshot = subscription_snapshot(obj)
    return SubscriptionDeleted(
        **envelope, subscription_id=snapshot.subscription_id, snapshot=snapshot
    )


def _invoice_paid(envelope: Envelope, obj: Obj) -> GatewayEvent:
    return InvoicePaid(**envelope, invoice=gateway_invoice(obj))


def _invoice_failed(envelope: Envelope, obj: Obj) -> GatewayEvent:
    return InvoicePaymentFailed(**envelope, invoice=gateway_invoice(obj))


_TRANSLATIONS: Mapping[str, Callable[[Envelope, Obj], GatewayEvent]] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_paid_later,
    "checkout.session.async_payment_failed": _checkout_failed_later,
    "checkout.session.expired": _checkout_expired,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.canceled": _intent_canceled,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund_changed,
    "refund.created": _refund_changed,
    "refund.updated": _refund_changed,
    "refund.failed": _refund_changed,
    "customer.subscription.created": _subscription_updated,
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    "charge.dispute.funds_withdrawn": _dispute_withdrawn,
    "charge.dispute.funds_reinstated": _dispute_reinstated,
}
TRANSLATED_TYPES = frozenset(_TRANSLATIONS)
"""The gateway event types we act on (metrics label these by name, others as ``other``)."""
