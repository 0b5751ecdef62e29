"""A paid invoice grants its period's credits, once, keyed ``invoice:<invoice id>``.

The one path that grants subscription credits: ``invoice.paid`` and the repair of
``batch reconcile`` both come here. Nothing else grants for a subscription; in
particular the Checkout that started it does not, so its first invoice is never
granted twice (docs/failure-modes.md #1). The invoice row and the grant commit
together; a second delivery finds the row and does nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork
from application.subscriptions.close_period import close_period
from application.subscriptions.gateway import GatewayInvoice
from application.subscriptions.observe import observe_subscription
from domain.events import SubscriptionInvoicePaid
from domain.plans import Plan
from domain.subscription import (
    Subscription,
    SubscriptionInvoice,
    SubscriptionSnapshot,
    billed_price,
    granted_period,
    invoice_credits,
    invoice_grant,
)

log = logging.getLogger(__name__)


class InvoiceOutcome(enum.StrEnum):
    GRANTED = "granted"
    ALREADY = "already_granted"
    NOT_OURS = "not_ours"


async def grant_invoice(
    uow: UnitOfWork,
    invoice: GatewayInvoice,
    snapshot: SubscriptionSnapshot | None,
    now: datetime,
) -> InvoiceOutcome:
    subscription = await _subscription(uow, invoice, snapshot, now)
    if subscription is None:
        return InvoiceOutcome.NOT_OURS
    if await uow.subscriptions.get_invoice(invoice.invoice_id) is not None:
        return InvoiceOutcome.ALREADY
    plans = await uow.subscriptions.plans()
    record = _record(invoice, subscription, invoice_credits(invoice.lines, plans), now)
    if not await uow.subscriptions.add_invoice(record):
        return InvoiceOutcome.ALREADY
    if record.credits > 0:
        await grant(uow, invoice_grant(record), now)
    await _close_neighbours(uow, record, plans, now)
    uow.record(
        SubscriptionInvoicePaid(
            user_id=record.user_id,
            occurred_at=now,
            invoice_id=record.invoice_id,
            subscription_id=record.subscription_id,
            amount=record.amount_paid,
            currency=record.currency,
            credits=record.credits,
            billing_reason=record.billing_reason,
        )
    )
    log.info(
        "invoice_granted invoice_id=%s subscription_id=%s user_id=%s credits=%s",
        record.invoice_id,
        record.subscription_id,
        record.user_id,
        record.credits,
    )
    return InvoiceOutcome.GRANTED


async def _subscription(
    uow: UnitOfWork, invoice: GatewayInvoice, snapshot: SubscriptionSnapshot | None, now: datetime
) -> Subscription | None:
    if invoice.subscription_id is None:
        return None
    if snapshot is not None and snapshot.subscription_id == invoice.subscription_id:
        subscription, _ = await observe_subscription(uow, snapshot, now)
        return subscription
    return await uow.subscriptions.get(invoice.subscription_id, for_update=True)


def _record(
    invoice: GatewayInvoice, subscription: Subscription, credits: int, now: datetime
) -> SubscriptionInvoice:
    start, end = granted_period(invoice.lines) or (
        subscription.current_period_start,
        subscription.current_period_end,
    )
    return SubscriptionInvoice(
        invoice_id=invoice.invoice_id,
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        billing_reason=invoice.billing_reason,
        period_start=start,
        period_end=end,
        amount_paid=invoice.amount_paid,
        currency=invoice.currency,
        credits=credits,
        paid_at=now,
        payment_intent_id=invoice.payment_intent_id,
        price_id=billed_price(invoice.lines),
    )


async def _close_neighbours(
    uow: UnitOfWork, record: SubscriptionInvoice, plans: Mapping[str, Plan], now: datetime
) -> None:
    """Roll the previous period into this one, and this one into the next if that was
    paid first: either order carries the same credits."""
    sub_id = record.subscription_id
    if await uow.subscriptions.invoices_ending(sub_id, record.period_start):
        await _roll(uow, sub_id, record.period_start, record, plans, now)
    for later in await uow.subscriptions.invoices_starting(sub_id, record.period_end):
        await _roll(uow, sub_id, record.period_end, later, plans, now)


async def _roll(
    uow: UnitOfWork,
    sub_id: str,
    ending: datetime,
    into: SubscriptionInvoice,
    plans: Mapping[str, Plan],
    now: datetime,
) -> None:
    """Close the period ending at ``ending`` into ``into``; credits carried into a period
    that is itself already closed (its successor was paid first) are closed with it, or
    a late invoice would leave a live rollover lot in a past period."""
    if await close_period(uow, sub_id, ending, into, _cap(into, plans), now) <= 0:
        return
    for later in await uow.subscriptions.invoices_starting(sub_id, into.period_end):
        await _roll(uow, sub_id, into.period_end, later, plans, now)


def _cap(receiving: SubscriptionInvoice, plans: Mapping[str, Plan]) -> int:
    """The receiving period's plan decides how much may roll into it."""
    plan = plans.get(receiving.price_id or "")
    return 0 if plan is None else plan.rollover_cap
