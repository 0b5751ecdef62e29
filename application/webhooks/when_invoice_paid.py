"""An invoice was paid: grant its period's credits once (``invoice:<invoice id>``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.ports import UnitOfWork
from application.subscriptions.gateway import SubscriptionReadGateway
from application.subscriptions.grant_invoice import InvoiceOutcome, grant_invoice
from application.webhooks.events import InvoiceEvent, InvoicePaid
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.when_subscription_changed import current_state
from domain.errors import GatewayRejected, NotFound


async def read_invoice_context(
    event: InvoiceEvent, gateway: SubscriptionReadGateway
) -> InvoiceEvent:
    """Before the transaction: the subscription's current state, and the payment that
    paid the invoice (refunds name that payment, and events may leave it out)."""
    snapshot = await current_state(gateway, event.invoice.subscription_id)
    invoice = event.invoice
    if isinstance(event, InvoicePaid) and invoice.payment_intent_id is None:
        try:
            intent_id = await gateway.invoice_payment_intent(invoice.invoice_id)
        except (NotFound, GatewayRejected):
            intent_id = None
        invoice = replace(invoice, payment_intent_id=intent_id)
    return replace(event, invoice=invoice, snapshot=snapshot or event.snapshot)


async def on_invoice_paid(uow: UnitOfWork, event: InvoicePaid, now: datetime) -> Handled:
    outcome = await grant_invoice(uow, event.invoice, event.snapshot, now)
    if outcome is InvoiceOutcome.NOT_OURS:
        return NOT_OURS
    if outcome is InvoiceOutcome.GRANTED:
        return Handled(EventOutcome.GRANTED, event.invoice.invoice_id)
    return Handled(EventOutcome.NO_CHANGE, event.invoice.invoice_id)
