"""Subscription Checkouts at the sandbox: the customer, the session, its test page and
its payment, which starts the subscription and pays its first invoice."""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox.cards import CardOutcome, SandboxCard
from adapters.sandbox.customer import CheckoutLapsed
from adapters.sandbox.invoices import new_invoice, pay_invoice
from adapters.sandbox.records import CheckoutDetails, Outcome, new_id
from adapters.sandbox.state import (
    CHECKOUT_MAX_LIFETIME,
    CHECKOUT_MIN_LIFETIME,
    SandboxState,
    timestamp,
)
from adapters.sandbox.subscription_records import (
    CustomerRecord,
    SubscriptionBook,
    SubscriptionRecord,
    SubscriptionSessionRecord,
    invoice_object,
    subscription_object,
    subscription_session_object,
)
from adapters.sandbox.subscriptions import add_interval
from application.purchases.gateway import CheckoutStatus
from application.subscriptions.gateway import CustomerRequest, SubscriptionCheckoutRequest
from domain.errors import GatewayRejected


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
    invoice = new_invoice(book, sub, "subscription_create", now)
    pay_invoice(state, invoice, now)
    session.status, session.subscription_id = CheckoutStatus.COMPLETE, sub.id
    produced = (
        state.emit("customer.subscription.created", subscription_object(sub), now),
        state.emit("invoice.paid", invoice_object(invoice), now),
        state.emit("checkout.session.completed", subscription_session_object(session), now),
    )
    return Outcome("succeeded", produced, "Subscribed")
