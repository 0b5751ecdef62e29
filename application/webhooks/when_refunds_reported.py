"""Refunds were made or changed status: reverse (or give back) credits once per refund."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from application.ports import UnitOfWork
from application.refunds.apply_refund import apply_refunds
from application.subscriptions.gateway import InvoiceRef
from application.subscriptions.refund_invoice import is_our_invoice, refund_invoice
from application.webhooks.events import GatewayEvent, RefundsReported, UnknownObject
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handling import NOT_OURS, EventNotReady, EventOutcome, Handled
from application.webhooks.payment_lookup import find_payment
from domain.errors import GatewayRejected, NotFound


async def gather_refunds(
    event: RefundsReported, gateway: WebhookGateway
) -> RefundsReported | UnknownObject:
    """List the refunds the event did not name, and learn whose payment it is.

    Refund objects carry no metadata of ours, and a Checkout payment learns its
    PaymentIntent id only from its paid events. A refund that overtakes those events
    would match nothing and be lost; the PaymentIntent's metadata (set by us when it
    was created) names the payment, so the refund waits for it instead.

    Refunds of a PaymentIntent the gateway does not know can never be listed: the event
    is about an unknown object, not an error to be redelivered for days.
    """
    intent_id = event.payment.intent_id
    if intent_id is None:
        return event
    if event.refunds is None:
        try:
            refunds = tuple(await gateway.list_refunds(intent_id))
        except (GatewayRejected, NotFound):
            return UnknownObject(**_envelope(event), object_id=intent_id)
        event = replace(event, refunds=refunds)
    if event.payment.metadata.get("payment_id"):
        return event
    try:
        intent = await gateway.get_payment_intent(intent_id)
    except (GatewayRejected, NotFound):
        return event  # not an object this account knows: recorded as not ours
    metadata = {**intent.metadata, **event.payment.metadata}
    event = replace(event, payment=replace(event.payment, metadata=metadata))
    if metadata.get("payment_id"):
        return event
    return replace(event, invoice=await _invoice_paid_by(intent_id, gateway))


async def _invoice_paid_by(intent_id: str, gateway: WebhookGateway) -> InvoiceRef | None:
    """A payment of no purchase of ours may have paid a subscription invoice; the
    refund names only the PaymentIntent, the gateway's invoice payment names both."""
    try:
        return await gateway.invoice_of_payment(intent_id)
    except (GatewayRejected, NotFound):
        return None


def _envelope(event: GatewayEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "type": event.type,
        "created_at": event.created_at,
        "livemode": event.livemode,
    }


async def on_refunds_reported(uow: UnitOfWork, event: RefundsReported, now: datetime) -> Handled:
    payment = await find_payment(uow, event.payment)
    if payment is None:
        return await _invoice_refunds(uow, event, now)
    refunds = event.refunds or ()
    if not payment.is_paid:
        # Failed refunds wait too: their record must exist before any stale report.
        if any(r.amount > 0 for r in refunds):
            raise EventNotReady(f"refund for payment {payment.id} before it was seen paid")
        return Handled(EventOutcome.NO_CHANGE, payment.id)
    applied = await apply_refunds(uow, payment, refunds, now)
    return Handled(EventOutcome.UPDATED if applied else EventOutcome.NO_CHANGE, payment.id)


async def _invoice_refunds(uow: UnitOfWork, event: RefundsReported, now: datetime) -> Handled:
    """Not a payment of ours: perhaps the payment of a subscription invoice.

    An invoice of ours not yet granted waits for its ``invoice.paid``, as a purchase's
    refund waits for its paid event (docs/webhooks.md).
    """
    refunds = event.refunds or ()
    paid = event.invoice
    invoice_id, changed = await refund_invoice(
        uow, event.payment.intent_id, None if paid is None else paid.invoice_id, refunds, now
    )
    if invoice_id is not None:
        return Handled(EventOutcome.UPDATED if changed else EventOutcome.NO_CHANGE, invoice_id)
    if paid is not None and await is_our_invoice(uow, paid.subscription_id, paid.customer_id):
        if any(r.amount > 0 for r in refunds):
            raise EventNotReady(f"refund for invoice {paid.invoice_id} before it was seen paid")
        return Handled(EventOutcome.NO_CHANGE, paid.invoice_id)
    return NOT_OURS
