"""POST /api/stripe/payment-intent: open a payment confirmed client-side with Stripe.js."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.purchases.gateway import IntentGateway, PaymentIntentRequest
from application.purchases.orders import Order, fingerprint, open_payment
from domain.credits import PricingPolicy
from domain.errors import NotFound
from domain.payment import PaymentKind


@dataclass(frozen=True, slots=True)
class PaymentIntentCreated:
    payment_intent_id: str
    client_secret: str | None
    payment_id: str
    status: str
    amount: int
    currency: str
    credits: int


async def create_payment_intent(
    order: Order,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: IntentGateway,
    clock: Clock,
    pricing: PricingPolicy,
    expires_in: timedelta,
) -> PaymentIntentCreated:
    request_fingerprint = fingerprint(
        PaymentKind.PAYMENT_INTENT,
        order.amount,
        order.currency,
        order.description,
        order.package_id,
    )
    payment = await open_payment(
        order,
        PaymentKind.PAYMENT_INTENT,
        request_fingerprint,
        uow_factory=uow_factory,
        pricing=pricing,
        now=clock.now(),
        expires_in=expires_in,
    )
    if payment.stripe_payment_intent_id is not None:
        # A replay of the same request: the client secret lives at the gateway only.
        intent = await gateway.get_payment_intent(payment.stripe_payment_intent_id)
    else:
        intent = await gateway.create_payment_intent(
            PaymentIntentRequest(
                payment_id=payment.id,
                user_id=payment.user_id,
                amount=payment.amount,
                currency=payment.currency,
                credits=payment.credits,
                description=payment.description or f"{payment.credits} credits",
                idempotency_key=f"payment_intent:{payment.id}",
            )
        )
        async with uow_factory() as uow:
            current = await uow.payments.get(payment.id, for_update=True)
            if current is None:
                raise NotFound(f"payment {payment.id} vanished")
            if current.stripe_payment_intent_id is None:
                current.stripe_payment_intent_id = intent.intent_id
                await uow.payments.save(current)
                await uow.commit()
            payment = current
    return PaymentIntentCreated(
        payment_intent_id=intent.intent_id,
        client_secret=intent.client_secret,
        payment_id=payment.id,
        status=payment.status.value,
        amount=payment.amount,
        currency=payment.currency,
        credits=payment.credits,
    )
