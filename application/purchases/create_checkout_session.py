"""POST /api/stripe/checkout-session: open a payment and a hosted Checkout for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.purchases.gateway import CheckoutGateway, CheckoutRequest
from application.purchases.orders import Order, fingerprint, open_payment
from domain.credits import PricingPolicy
from domain.errors import NotFound
from domain.payment import Payment, PaymentKind
from domain.redirects import RedirectPolicy

MIN_CHECKOUT_LIFETIME = timedelta(minutes=31)


@dataclass(frozen=True, slots=True)
class CreateCheckoutSession:
    order: Order
    success_url: str | None = None
    cancel_url: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSessionCreated:
    session_id: str
    url: str
    payment_id: str
    status: str
    amount: int
    currency: str
    credits: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CheckoutSettings:
    pricing: PricingPolicy
    redirects: RedirectPolicy
    expires_in: timedelta


async def create_checkout_session(
    command: CreateCheckoutSession,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: CheckoutGateway,
    clock: Clock,
    settings: CheckoutSettings,
) -> CheckoutSessionCreated:
    order = command.order
    success_url = settings.redirects.resolve(command.success_url, "/payment/success")
    cancel_url = settings.redirects.resolve(command.cancel_url, "/payment/cancel")
    request_fingerprint = fingerprint(
        PaymentKind.CHECKOUT,
        order.amount,
        order.currency,
        order.description,
        order.package_id,
        success_url,
        cancel_url,
    )
    payment = await open_payment(
        order,
        PaymentKind.CHECKOUT,
        request_fingerprint,
        uow_factory=uow_factory,
        pricing=settings.pricing,
        now=clock.now(),
        # Stripe refuses an expires_at under 30 minutes from *its* clock; the slack
        # keeps a 30-minute setting valid across request latency and clock skew.
        expires_in=max(settings.expires_in, MIN_CHECKOUT_LIFETIME),
    )
    if payment.stripe_session_id is None:
        request = _checkout_request(payment, success_url, cancel_url)
        payment = await attach_session(request, uow_factory=uow_factory, gateway=gateway)
    return _created(payment)


def _checkout_request(payment: Payment, success_url: str, cancel_url: str) -> CheckoutRequest:
    assert payment.expires_at is not None
    return CheckoutRequest(
        payment_id=payment.id,
        user_id=payment.user_id,
        amount=payment.amount,
        currency=payment.currency,
        credits=payment.credits,
        description=payment.description or f"{payment.credits} credits",
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=payment.expires_at,
        idempotency_key=f"checkout:{payment.id}",
    )


async def attach_session(
    request: CheckoutRequest, *, uow_factory: UnitOfWorkFactory, gateway: CheckoutGateway
) -> Payment:
    """Create the hosted Checkout of payment ``request.payment_id`` (under the request's
    idempotency key, so a retry finds the same session) and store it on the payment,
    unless a concurrent call stored one first."""
    created = await gateway.create_checkout(request)
    async with uow_factory() as uow:
        current = await uow.payments.get(request.payment_id, for_update=True)
        if current is None:
            raise NotFound(f"payment {request.payment_id} vanished")
        if current.stripe_session_id is None:
            current.stripe_session_id = created.session_id
            current.checkout_url = created.url
            current.expires_at = created.expires_at
            current.stripe_payment_intent_id = (
                current.stripe_payment_intent_id or created.payment_intent_id
            )
            await uow.payments.save(current)
            await uow.commit()
    return current


def _created(payment: Payment) -> CheckoutSessionCreated:
    assert payment.stripe_session_id and payment.checkout_url and payment.expires_at
    return CheckoutSessionCreated(
        session_id=payment.stripe_session_id,
        url=payment.checkout_url,
        payment_id=payment.id,
        status=payment.status.value,
        amount=payment.amount,
        currency=payment.currency,
        credits=payment.credits,
        expires_at=payment.expires_at,
    )
