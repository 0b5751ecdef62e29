"""When the bank wants the user to authenticate an off-session charge: a page where they
can, and no way left to take the charge that asked.

The service holds no publishable key, so it cannot confirm the PaymentIntent with
Stripe.js on a page of its own. The user gets a hosted Checkout instead (mode
``payment``, their gateway customer, the top-up's amount and credits, metadata naming
the top-up): Stripe runs the bank's check there, the sandbox its own checkout page. Its
payment is an ordinary purchase; paying it settles the top-up (``checkout``).

In order, each step safe to repeat: a worker that dies (or loses an answer) leaves the
top-up leased, and the next one replays the charge under the same key, gets the same
answer and walks the same steps.

1. Cancel the PaymentIntent that asked, so it can never be charged later (canceled
   already counts as done; one that succeeded after all is a success).
2. Open the Checkout's payment and link it to the top-up, in one transaction holding the
   top-up's row; a replay finds it through the link. The link exists before the gateway
   hears of the Checkout, so however early it is paid, its payment finds the top-up.
3. Create the Checkout under the attempt's key ``auto_top_up:<id>[:<n>]:checkout`` and
   store it on its payment (``attach_session``).

``settle`` then records ``auto_top_up.action_required`` with its URL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from application.auto_top_up.ports import (
    AutoTopUpGateway,
    ChargeOutcome,
    OffSessionCharge,
    TopUpTerms,
)
from application.ids import new_id
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.create_checkout_session import attach_session
from application.purchases.gateway import CheckoutRequest, IntentStatus
from domain.auto_top_up import ACTION_LINK_LIFETIME, AutoTopUp, TopUpStatus
from domain.errors import GatewayRejected
from domain.payment import Payment, PaymentKind, PaymentStatus


@dataclass(frozen=True, slots=True)
class AuthenticationLink:
    """Where the user pays the top-up: the Checkout's payment, page and end."""

    payment_id: str
    url: str
    expires_at: datetime


async def ask_to_authenticate(
    claimed: AutoTopUp,
    payment: Payment,
    customer_id: str,
    charge: OffSessionCharge,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: AutoTopUpGateway,
    clock: Clock,
    terms: TopUpTerms,
) -> tuple[OffSessionCharge, AuthenticationLink | None]:
    """The charge to settle, and the link: None when the charge succeeded after all, or
    when the attempt was settled elsewhere meanwhile (``settle`` then does nothing)."""
    if charge.intent_id is not None:
        status = await _cancel(gateway, charge.intent_id)
        if status is IntentStatus.SUCCEEDED:
            return replace(charge, outcome=ChargeOutcome.SUCCEEDED, error=None), None
    checkout = await _link_checkout(claimed, payment, uow_factory, clock.now())
    if checkout is None:
        return charge, None
    if checkout.stripe_session_id is None:
        request = _checkout_request(claimed, checkout, customer_id, terms)
        checkout = await attach_session(request, uow_factory=uow_factory, gateway=gateway)
    assert checkout.checkout_url is not None and checkout.expires_at is not None
    return charge, AuthenticationLink(checkout.id, checkout.checkout_url, checkout.expires_at)


async def _cancel(gateway: AutoTopUpGateway, intent_id: str) -> IntentStatus:
    try:
        status = (await gateway.cancel_payment_intent(intent_id)).status
    except GatewayRejected:  # canceled by an earlier try, or it moved on: ask
        status = (await gateway.get_payment_intent(intent_id)).status
    if status not in (IntentStatus.CANCELED, IntentStatus.SUCCEEDED):
        raise GatewayRejected(f"payment intent {intent_id} is {status.value}, not canceled")
    return status


async def _link_checkout(
    claimed: AutoTopUp, payment: Payment, uow_factory: UnitOfWorkFactory, now: datetime
) -> Payment | None:
    """The attempt's Checkout payment, opened and linked once; None if the attempt is over."""
    async with uow_factory() as uow:
        top_up = await uow.auto_top_ups.get(claimed.id, for_update=True)
        if top_up is None or top_up.status is not TopUpStatus.REQUESTED:
            return None
        if top_up.attempts != claimed.attempts:
            return None
        if top_up.checkout_payment_id is not None:
            return await uow.payments.get(top_up.checkout_payment_id)
        checkout = _checkout_payment(claimed, payment, now)
        await uow.payments.add(checkout)
        await uow.auto_top_ups.save(replace(top_up, checkout_payment_id=checkout.id))
        await uow.commit()
    return checkout


def _checkout_payment(claimed: AutoTopUp, payment: Payment, now: datetime) -> Payment:
    """The same purchase as the charge (amount, currency, credits), as a Checkout. Its
    client key starts as the attempt's key, which tells it apart without a read; the
    random tail keeps a key chosen by a client from ever colliding with it."""
    payment_id = new_id("pay")
    return Payment(
        id=payment_id,
        user_id=payment.user_id,
        kind=PaymentKind.CHECKOUT,
        amount=payment.amount,
        currency=payment.currency,
        credits=payment.credits,
        status=PaymentStatus.PENDING,
        created_at=now,
        updated_at=now,
        description=payment.description,
        package_id=payment.package_id,
        expires_at=now + ACTION_LINK_LIFETIME,
        client_key=f"{claimed.checkout_key}:{payment_id}",
    )


def _checkout_request(
    claimed: AutoTopUp, checkout: Payment, customer_id: str, terms: TopUpTerms
) -> CheckoutRequest:
    assert checkout.expires_at is not None
    return CheckoutRequest(
        payment_id=checkout.id,
        user_id=checkout.user_id,
        amount=checkout.amount,
        currency=checkout.currency,
        credits=checkout.credits,
        description=f"Auto top-up: {checkout.credits} credits",
        success_url=terms.redirects.resolve(None, "/payment/success"),
        cancel_url=terms.redirects.resolve(None, "/payment/cancel"),
        expires_at=checkout.expires_at,
        idempotency_key=claimed.checkout_key,
        customer_id=customer_id,
        auto_top_up_id=claimed.id,
    )
