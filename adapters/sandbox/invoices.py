"""Invoices at the sandbox: a period's or an upgrade's, paid by a PaymentIntent of
their amount (so a refund of an invoice is a refund of that PaymentIntent, as on
Stripe)."""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox import merchant
from adapters.sandbox.records import IntentRecord, Outcome, new_id
from adapters.sandbox.state import SandboxState, timestamp
from adapters.sandbox.subscription_records import (
    InvoiceRecord,
    SubscriptionBook,
    SubscriptionRecord,
    invoice_line,
)
from application.purchases.gateway import IntentStatus
from application.refunds.gateway import RefundRequest
from domain.errors import GatewayRejected
from domain.plans import Plan

DECLINED = "Your card has insufficient funds."


def new_invoice(
    book: SubscriptionBook, sub: SubscriptionRecord, reason: str, now: datetime
) -> InvoiceRecord:
    line = invoice_line(
        sub.plan, sub.plan.price.amount, sub.period_start, sub.period_end, sub.id, False
    )
    return add_invoice(book, sub, reason, [line], now)


def proration_invoice(
    book: SubscriptionBook, sub: SubscriptionRecord, plan: Plan, now: datetime
) -> InvoiceRecord:
    """Stripe's proration: unused time on the old price credited, remaining time on the
    new price charged, both for ``[now, period end)`` over the period's length."""
    start = min(max(timestamp(now), sub.period_start), sub.period_end)
    remaining, length = sub.period_end - start, max(1, sub.period_end - sub.period_start)
    unused = -(sub.plan.price.amount * remaining // length)
    charged = plan.price.amount * remaining // length
    lines = [
        invoice_line(sub.plan, unused, start, sub.period_end, sub.id, True),
        invoice_line(plan, charged, start, sub.period_end, sub.id, True),
    ]
    return add_invoice(book, sub, "subscription_update", lines, now)


def add_invoice(
    book: SubscriptionBook,
    sub: SubscriptionRecord,
    reason: str,
    lines: list[dict[str, object]],
    now: datetime,
) -> InvoiceRecord:
    invoice = InvoiceRecord(
        id=new_id("in"),
        subscription_id=sub.id,
        customer_id=sub.customer_id,
        billing_reason=reason,
        currency=sub.plan.price.currency,
        lines=lines,  # type: ignore[arg-type]
        created=timestamp(now),
    )
    book.invoices[invoice.id] = invoice
    sub.invoice_ids.append(invoice.id)
    return invoice


def pay_invoice(state: SandboxState, invoice: InvoiceRecord, now: datetime) -> None:
    """Paid by a PaymentIntent of the invoice's amount; a refund of the invoice is a
    refund of that PaymentIntent, as on Stripe."""
    invoice.status, invoice.amount_paid = "paid", invoice.amount_due
    if invoice.amount_due == 0:
        return
    intent_id = new_id("pi")
    state.intents[intent_id] = IntentRecord(
        id=intent_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        description=f"Invoice {invoice.id}",
        metadata={},
        client_secret=new_id(f"{intent_id}_secret"),
        created=timestamp(now),
        status=IntentStatus.SUCCEEDED,
        amount_received=invoice.amount_due,
        charge_id=new_id("ch"),
        invoice_id=invoice.id,
    )
    invoice.intent_id = intent_id


def refund_invoice(
    state: SandboxState, book: SubscriptionBook, invoice_id: str, amount: int | None, now: datetime
) -> Outcome:
    """A refund of the invoice's PaymentIntent, as the merchant makes it in Stripe's
    dashboard: the refund carries no metadata of ours."""
    invoice = book.invoice(invoice_id)
    if invoice.intent_id is None:
        raise GatewayRejected(f"invoice {invoice_id} has no payment", code="charge_not_paid")
    intent = state.intent(invoice.intent_id)
    left = intent.amount_received - intent.amount_refunded
    request = RefundRequest(
        payment_id="",
        payment_intent_id=intent.id,
        amount=left if amount is None else amount,
        reason="requested_by_customer",
        idempotency_key=new_id("sandbox_refund"),
    )
    _, outcome = merchant.refund(state, request, now)
    return outcome
