"""A renewal (or retry) failed: the subscription turns ``past_due`` at the gateway and
nothing is granted; the invoice's later payment grants once (``invoice.paid``)."""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork
from application.subscriptions.observe import observe_subscription
from application.webhooks.events import InvoicePaymentFailed
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled

log = logging.getLogger(__name__)


async def on_invoice_payment_failed(
    uow: UnitOfWork, event: InvoicePaymentFailed, now: datetime
) -> Handled:
    snapshot = event.snapshot
    if snapshot is None:
        return NOT_OURS
    subscription, changed = await observe_subscription(uow, snapshot, now)
    if subscription is None:
        return NOT_OURS
    log.warning(
        "invoice_payment_failed invoice_id=%s subscription_id=%s user_id=%s status=%s",
        event.invoice.invoice_id,
        subscription.id,
        subscription.user_id,
        subscription.status,
    )
    return Handled(EventOutcome.UPDATED if changed else EventOutcome.NO_CHANGE, subscription.id)
