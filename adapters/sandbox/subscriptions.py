"""Subscriptions at the sandbox: what Stripe Billing does, in Stripe's order of events.

Plain synchronous functions over one operation's records (``adapters.sandbox.transact``);
each returns what it produced (events are kept in ``SandboxState.events``, like every
sandbox event, so reconciliation can list them). Time moves only on request: a
renewal starts the next period where the current one ends, whatever the clock says.
A renewal charges the card saved at Checkout; ``fail_next_renewal`` makes the next
charge be declined, as Stripe's ``4000 0000 0000 0341`` card would.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from adapters.sandbox.invoices import DECLINED, new_invoice, pay_invoice, proration_invoice
from adapters.sandbox.records import Outcome, SandboxEvent
from adapters.sandbox.state import (
    SandboxState,
    timestamp,
)
from adapters.sandbox.subscription_records import (
    SubscriptionBook,
    SubscriptionRecord,
    invoice_object,
    subscription_object,
)
from adapters.stripe.billing import subscription_snapshot
from application.subscriptions.gateway import (
    PlanChange,
)
from domain.errors import GatewayRejected
from domain.plans import Interval
from domain.subscription import SubscriptionSnapshot


def add_interval(moment: int, interval: Interval) -> int:
    """One calendar month (or year) later, the day clamped to the month's length."""
    at = datetime.fromtimestamp(moment, UTC)
    months = 12 if interval is Interval.YEAR else 1
    year, month = divmod(at.month - 1 + months, 12)
    year, month = at.year + year, month + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return int(at.replace(year=year, month=month, day=day).timestamp())


def snapshot(sub: SubscriptionRecord) -> SubscriptionSnapshot:
    """Read through the Stripe adapter's own translation of the Stripe-shaped object."""
    return subscription_snapshot(subscription_object(sub))


def renew(
    state: SandboxState, book: SubscriptionBook, subscription_id: str, now: datetime
) -> Outcome:
    """The period ends: the subscription ends (if canceled at period end) or renews and
    its invoice is charged; a declined charge makes it ``past_due``."""
    sub = _live(book, subscription_id)
    if sub.cancel_at_period_end:
        sub.status, sub.ended_at = "canceled", sub.period_end
        event = state.emit("customer.subscription.deleted", subscription_object(sub), now)
        return Outcome("canceled", (event,), "The subscription ended with its period.")
    sub.period_start, sub.period_end = (
        sub.period_end,
        add_interval(sub.period_end, sub.plan.interval),
    )
    invoice = new_invoice(book, sub, "subscription_cycle", now)
    paid = not book.customer(sub.customer_id).charge_declined()
    if paid:
        pay_invoice(state, invoice, now)
    sub.status = "active" if paid else "past_due"
    produced = (
        state.emit("customer.subscription.updated", subscription_object(sub), now),
        state.emit(
            "invoice.paid" if paid else "invoice.payment_failed", invoice_object(invoice), now
        ),
    )
    return Outcome("succeeded" if paid else "failed", produced, None if paid else DECLINED)


def retry(
    state: SandboxState, book: SubscriptionBook, subscription_id: str, now: datetime
) -> Outcome:
    """Stripe's retry of the open invoice (or the customer paying it with a new card)."""
    sub = _live(book, subscription_id)
    invoice = book.open_invoice(sub.id)
    if invoice is None:
        raise GatewayRejected(f"subscription {sub.id} has no open invoice", code="no_open_invoice")
    if book.customer(sub.customer_id).charge_declined():
        event = state.emit("invoice.payment_failed", invoice_object(invoice), now)
        return Outcome("failed", (event,), DECLINED)
    pay_invoice(state, invoice, now)
    sub.status = "active"
    produced = (
        state.emit("invoice.paid", invoice_object(invoice), now),
        state.emit("customer.subscription.updated", subscription_object(sub), now),
    )
    return Outcome("succeeded", produced, "The open invoice is paid.")


def fail_next_renewal(book: SubscriptionBook, subscription_id: str) -> Outcome:
    sub = _live(book, subscription_id)
    book.customer(sub.customer_id).fail_next_charges += 1
    return Outcome(
        "next_renewal_fails", (), "The next charge of this subscription will be declined."
    )


def change(
    state: SandboxState, book: SubscriptionBook, request: PlanChange, now: datetime
) -> tuple[SubscriptionSnapshot, tuple[SandboxEvent, ...]]:
    """Swap the price; with ``prorate``, charge the rest of the period's difference now
    (``pending_if_incomplete``: a declined charge changes nothing)."""
    sub = _live(book, request.subscription_id)
    if request.idempotency_key and state.replay(request.idempotency_key, request):
        return snapshot(sub), ()
    produced: list[SandboxEvent] = []
    if request.prorate:
        invoice = proration_invoice(book, sub, request.plan, now)
        if book.customer(sub.customer_id).charge_declined():
            del book.invoices[invoice.id]
            sub.invoice_ids.remove(invoice.id)
            raise GatewayRejected(
                f"the upgrade's charge was declined: {DECLINED}", code="card_declined"
            )
        pay_invoice(state, invoice, now)
        sub.plan = request.plan
        produced.append(state.emit("customer.subscription.updated", subscription_object(sub), now))
        produced.append(state.emit("invoice.paid", invoice_object(invoice), now))
    else:
        sub.plan = request.plan
        produced.append(state.emit("customer.subscription.updated", subscription_object(sub), now))
    if request.idempotency_key:
        state.remember(request.idempotency_key, request, sub.id)
    return snapshot(sub), tuple(produced)


def cancel(
    state: SandboxState,
    book: SubscriptionBook,
    subscription_id: str,
    at_period_end: bool,
    key: str | None,
    now: datetime,
) -> tuple[SubscriptionSnapshot, tuple[SandboxEvent, ...]]:
    sub = _live(book, subscription_id)
    request = ("cancel", subscription_id, at_period_end)
    if key and state.replay(key, request):
        return snapshot(sub), ()
    if at_period_end:
        sub.cancel_at_period_end = True
        event = state.emit("customer.subscription.updated", subscription_object(sub), now)
    else:
        sub.status, sub.ended_at = "canceled", timestamp(now)
        event = state.emit("customer.subscription.deleted", subscription_object(sub), now)
    if key:
        state.remember(key, request, sub.id)
    return snapshot(sub), (event,)


def resume(
    state: SandboxState,
    book: SubscriptionBook,
    subscription_id: str,
    key: str | None,
    now: datetime,
) -> tuple[SubscriptionSnapshot, tuple[SandboxEvent, ...]]:
    sub = _live(book, subscription_id)
    request = ("resume", subscription_id)
    if key and state.replay(key, request):
        return snapshot(sub), ()
    sub.cancel_at_period_end = False
    event = state.emit("customer.subscription.updated", subscription_object(sub), now)
    if key:
        state.remember(key, request, sub.id)
    return snapshot(sub), (event,)


def _live(book: SubscriptionBook, subscription_id: str) -> SubscriptionRecord:
    sub = book.subscription(subscription_id)
    if sub.status == "canceled":
        raise GatewayRejected(f"subscription {sub.id} is canceled", code="subscription_canceled")
    return sub
