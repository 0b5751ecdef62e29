"""Subscriptions at the sandbox: what Stripe Billing does, in Stripe's order of events.

Plain synchronous functions over the sandbox's records, run under the gateway's lock;
each returns what it produced (events are kept in ``SandboxState.events``, like every
sandbox event, so reconciliation can list them). Time moves only on request: a
renewal starts the next period where the current one ends, whatever the clock says.
A renewal charges the card saved at Checkout; ``fail_next_renewal`` makes the next
charge be declined, as Stripe's ``4000 0000 0000 0341`` card would.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from adapters.sandbox import merchant
from adapters.sandbox.cards import CardOutcome, SandboxCard
from adapters.sandbox.customer import CheckoutLapsed
from adapters.sandbox.records import CheckoutDetails, IntentRecord, Outcome, SandboxEvent, new_id
from adapters.sandbox.state import (
    CHECKOUT_MAX_LIFETIME,
    CHECKOUT_MIN_LIFETIME,
    SandboxState,
    timestamp,
)
from adapters.sandbox.subscription_records import (
    CustomerRecord,
    InvoiceRecord,
    SubscriptionBook,
    SubscriptionRecord,
    SubscriptionSessionRecord,
    invoice_line,
    invoice_object,
    subscription_object,
    subscription_session_object,
)
from adapters.stripe.billing import subscription_snapshot
from application.purchases.gateway import CheckoutStatus, IntentStatus
from application.refunds.gateway import RefundRequest
from application.subscriptions.gateway import (
    CustomerRequest,
    PlanChange,
    SubscriptionCheckoutRequest,
)
from domain.errors import GatewayRejected
from domain.plans import Interval, Plan
from domain.subscription import SubscriptionSnapshot

DECLINED = "Your card has insufficient funds."


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


def create_customer(state: SandboxState, book: SubscriptionBook, request: CustomerRequest) -> str:
    known = state.replay(request.idempotency_key, request)
    if known is not None:
        return known
    customer = CustomerRecord(new_id("cus"), request.email, request.user_id)
    book.customers[customer.id] = customer
    state.remember(request.idempotency_key, request, customer.id)
    return customer.id


def create_checkout(
    state: SandboxState,
    book: SubscriptionBook,
    request: SubscriptionCheckoutRequest,
    url_base: str,
    now: datetime,
) -> SubscriptionSessionRecord:
    known = state.replay(request.idempotency_key, request)
    if known is not None:
        return book.session(known)
    book.customer(request.customer_id)
    if not CHECKOUT_MIN_LIFETIME <= request.expires_at - now <= CHECKOUT_MAX_LIFETIME:
        raise GatewayRejected(
            "expires_at must be 30 minutes to 24 hours after creation", code="invalid_expires_at"
        )
    session_id = new_id("cs_test")
    session = SubscriptionSessionRecord(
        id=session_id,
        customer_id=request.customer_id,
        user_id=request.user_id,
        plan=request.plan,
        success_url=request.success_url,
        cancel_url=request.cancel_url,
        url=f"{url_base}/sandbox/checkout/{session_id}",
        expires_at=request.expires_at,
        created=timestamp(now),
    )
    book.sessions[session_id] = session
    state.remember(request.idempotency_key, request, session_id)
    return session


def details(session: SubscriptionSessionRecord) -> CheckoutDetails:
    """The test page shows the plan: its name, credits and billing interval."""
    plan = session.plan
    return CheckoutDetails(
        session_id=session.id,
        status=session.status,
        amount=plan.price.amount,
        currency=plan.price.currency,
        description=(
            f"Subscription: {plan.name}, {plan.credits_per_period} credits every "
            f"{plan.interval.value}, billed every {plan.interval.value}"
        ),
        success_url=session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id),
        cancel_url=session.cancel_url,
    )


def pay_checkout(
    state: SandboxState,
    book: SubscriptionBook,
    session_id: str,
    card: SandboxCard,
    now: datetime,
) -> Outcome:
    """A declined card leaves the Checkout open; a 3-D Secure card is taken as
    authenticated. Success starts the subscription and pays its first invoice."""
    session = book.session(session_id)
    if session.status is not CheckoutStatus.OPEN:
        raise GatewayRejected(
            f"checkout session {session_id} is {session.status.value}",
            code=f"checkout_session_{session.status.value}",
        )
    if now >= session.expires_at:
        session.status = CheckoutStatus.EXPIRED
        expired = state.emit("checkout.session.expired", subscription_session_object(session), now)
        raise CheckoutLapsed(session_id, (expired,))
    if card.outcome is CardOutcome.DECLINED:
        assert card.error is not None
        return Outcome("failed", (), card.error.message)
    start = timestamp(now)
    sub = SubscriptionRecord(
        id=new_id("sub"),
        customer_id=session.customer_id,
        plan=session.plan,
        metadata={"user_id": session.user_id, "plan_id": session.plan.id},
        period_start=start,
        period_end=add_interval(start, session.plan.interval),
        created=start,
    )
    book.subscriptions[sub.id] = sub
    invoice = _invoice(book, sub, "subscription_create", now)
    _pay(state, invoice, now)
    session.status, session.subscription_id = CheckoutStatus.COMPLETE, sub.id
    produced = (
        state.emit("customer.subscription.created", subscription_object(sub), now),
        state.emit("invoice.paid", invoice_object(invoice), now),
        state.emit("checkout.session.completed", subscription_session_object(session), now),
    )
    return Outcome("succeeded", produced, "Subscribed")


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
    invoice = _invoice(book, sub, "subscription_cycle", now)
    paid = not book.customer(sub.customer_id).charge_declined()
    if paid:
        _pay(state, invoice, now)
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
    _pay(state, invoice, now)
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
        invoice = _proration(book, sub, request.plan, now)
        if book.customer(sub.customer_id).charge_declined():
            del book.invoices[invoice.id]
            raise GatewayRejected(
                f"the upgrade's charge was declined: {DECLINED}", code="card_declined"
            )
        _pay(state, invoice, now)
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


def _invoice(
    book: SubscriptionBook, sub: SubscriptionRecord, reason: str, now: datetime
) -> InvoiceRecord:
    line = invoice_line(
        sub.plan, sub.plan.price.amount, sub.period_start, sub.period_end, sub.id, False
    )
    return _add_invoice(book, sub, reason, [line], now)


def _proration(
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
    return _add_invoice(book, sub, "subscription_update", lines, now)


def _add_invoice(
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
    return invoice


def _pay(state: SandboxState, invoice: InvoiceRecord, now: datetime) -> None:
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
    )
    invoice.intent_id = intent_id


def refund_invoice(
    state: SandboxState, book: SubscriptionBook, invoice_id: str, amount: int | None, now: datetime
) -> Outcome:
    """A refund of the invoice's PaymentIntent, as the merchant makes it at Stripe."""
    invoice = book.invoice(invoice_id)
    if invoice.intent_id is None:
        raise GatewayRejected(f"invoice {invoice_id} has no payment", code="charge_not_paid")
    intent = state.intent(invoice.intent_id)
    left = intent.amount_received - intent.amount_refunded
    request = RefundRequest(
        payment_id=invoice_id,
        payment_intent_id=intent.id,
        amount=left if amount is None else amount,
        reason="requested_by_customer",
        idempotency_key=new_id("sandbox_refund"),
    )
    _, outcome = merchant.refund(state, request, now)
    return outcome
