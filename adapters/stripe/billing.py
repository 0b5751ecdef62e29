"""Stripe subscriptions and invoices translated into our types.

Read in the pinned API version's shapes (since 2025-03-31): a subscription's billing
period is on its items (``items.data[].current_period_start/end``), an invoice names
its subscription at ``parent.subscription_details.subscription``, a line its price at
``pricing.price_details.price`` and whether it is a proration at
``parent.subscription_item_details.proration``, and an invoice's payment is an
``InvoicePayment`` (``payments.data[].payment.payment_intent``): PaymentIntents and
charges no longer name their invoice. Older shapes (top-level ``current_period_*``,
``invoice.subscription``, ``line.price``/``line.plan``, ``invoice.payment_intent``),
which localstripe still speaks, are read as a fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.stripe.fields import integer, object_id, text, timestamp
from application.subscriptions.gateway import GatewayInvoice
from application.webhooks.gateway import MalformedEvent
from domain.subscription import InvoiceLine, SubscriptionSnapshot, SubscriptionStatus

# Stripe's statuses in ours: an incomplete subscription that expired never started, and
# a paused one bills nothing (so it grants nothing) until it resumes.
STATUSES: Mapping[str, SubscriptionStatus] = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.CANCELED,
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.UNPAID,
    "paused": SubscriptionStatus.UNPAID,
    "canceled": SubscriptionStatus.CANCELED,
}
_EPOCH = datetime.fromtimestamp(0, UTC)
BILLING_REASON_MAX = 64  # Stripe's reasons are short; the column keeps this many


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first_item(subscription: Mapping[str, Any]) -> Mapping[str, Any]:
    data = _map(subscription.get("items")).get("data")
    return _map(data[0]) if isinstance(data, list) and data else {}


def price_of(holder: Mapping[str, Any]) -> str | None:
    """A price id from a line or item: current ``pricing.price_details``, else the older
    ``price`` or ``plan`` object."""
    details = _map(_map(holder.get("pricing")).get("price_details"))
    return (
        object_id(details.get("price"))
        or object_id(holder.get("price"))
        or object_id(holder.get("plan"))
    )


def subscription_snapshot(subscription: Mapping[str, Any]) -> SubscriptionSnapshot:
    subscription_id = text(subscription.get("id"))
    if subscription_id is None:
        raise MalformedEvent("subscription needs an id")
    item = _first_item(subscription)
    start = timestamp(item.get("current_period_start")) or timestamp(
        subscription.get("current_period_start")
    )
    end = timestamp(item.get("current_period_end")) or timestamp(
        subscription.get("current_period_end")
    )
    status = STATUSES.get(str(subscription.get("status")), SubscriptionStatus.INCOMPLETE)
    return SubscriptionSnapshot(
        subscription_id=subscription_id,
        customer_id=object_id(subscription.get("customer")),
        price_id=price_of(item),
        status=status,
        current_period_start=start or _EPOCH,
        current_period_end=end or start or _EPOCH,
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
        canceled_at=timestamp(subscription.get("ended_at"))
        or timestamp(subscription.get("canceled_at")),
    )


def invoice_subscription(invoice: Mapping[str, Any]) -> str | None:
    details = _map(_map(invoice.get("parent")).get("subscription_details"))
    return object_id(details.get("subscription")) or object_id(invoice.get("subscription"))


def _proration(line: Mapping[str, Any]) -> bool:
    parent = _map(line.get("parent"))
    for kind in ("subscription_item_details", "invoice_item_details"):
        details = _map(parent.get(kind))
        if "proration" in details:
            return bool(details["proration"])
    return bool(line.get("proration"))


def invoice_line(line: Mapping[str, Any]) -> InvoiceLine:
    period = _map(line.get("period"))
    start = timestamp(period.get("start")) or _EPOCH
    return InvoiceLine(
        price_id=price_of(line),
        amount=integer(line.get("amount")) or 0,
        period_start=start,
        period_end=timestamp(period.get("end")) or start,
        proration=_proration(line),
        quantity=integer(line.get("quantity")) or 1,
    )


def invoice_payment_intent(invoice: Mapping[str, Any]) -> str | None:
    """The paid InvoicePayment's PaymentIntent (when ``payments`` is included), else the
    older top-level ``payment_intent``."""
    payments = _map(invoice.get("payments")).get("data")
    for payment in payments if isinstance(payments, list) else ():
        paid = _map(payment)
        if paid.get("status") in (None, "paid"):
            intent = object_id(_map(paid.get("payment")).get("payment_intent"))
            if intent:
                return intent
    return object_id(invoice.get("payment_intent"))


def gateway_invoice(invoice: Mapping[str, Any]) -> GatewayInvoice:
    invoice_id = text(invoice.get("id"))
    if invoice_id is None:
        raise MalformedEvent("invoice needs an id")
    data = _map(invoice.get("lines")).get("data")
    lines = tuple(invoice_line(_map(line)) for line in data) if isinstance(data, list) else ()
    return GatewayInvoice(
        invoice_id=invoice_id,
        customer_id=object_id(invoice.get("customer")),
        subscription_id=invoice_subscription(invoice),
        billing_reason=(text(invoice.get("billing_reason")) or "manual")[:BILLING_REASON_MAX],
        amount_paid=integer(invoice.get("amount_paid")) or 0,
        currency=(text(invoice.get("currency")) or "").lower()[:3],
        lines=lines,
        payment_intent_id=invoice_payment_intent(invoice),
    )
