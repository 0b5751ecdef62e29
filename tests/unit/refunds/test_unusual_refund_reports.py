"""Findings of the money-path audit, each pinned by the scenario that showed it.

A refund status this code does not know (Stripe may add one; a payment method may
report its own) must change nothing: it was read as ``failed``, which gave back the
credits of a refund that had already reversed them (the customer keeps the money
and the credits), and recorded a never-seen refund as failed, so its later
``succeeded`` report was ignored and its credits were never reversed.
"""

from __future__ import annotations

import pytest

from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent
from application.webhooks.handling import EventNotReady, EventOutcome
from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import App, refund_object, stripe_event


def report(payment: Payment, refund_id: str, amount: int, status: str) -> GatewayEvent:
    refund = GatewayRefund(
        refund_id, payment.stripe_payment_intent_id, amount, payment.currency, RefundStatus.PENDING
    )
    return stripe_event("refund.updated", refund_object(refund) | {"status": status})


async def paid(app: App, amount: int = 1000) -> Payment:
    payment = await app.open_checkout(amount)
    await app.handle_all(await app.pay(payment))
    return app.payment(payment.id)


async def test_an_unknown_refund_status_does_not_give_reversed_credits_back(app: App) -> None:
    payment = await paid(app)
    await app.handle(report(payment, "re_1", 400, "pending"))
    assert app.balance(payment.user_id) == 600

    await app.handle(report(payment, "re_1", 400, "some_new_status"))

    stored = app.payment(payment.id)
    assert app.balance(payment.user_id) == 600
    assert (stored.status, stored.amount_refunded, stored.credits_reversed) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        400,
        400,
    )
    assert await app.mismatches() == []


async def test_an_unknown_refund_status_first_does_not_block_its_later_success(
    app: App,
) -> None:
    payment = await paid(app)
    await app.handle(report(payment, "re_1", 400, "some_new_status"))
    await app.handle(report(payment, "re_1", 400, "succeeded"))

    stored = app.payment(payment.id)
    assert app.balance(payment.user_id) == 600
    assert (stored.amount_refunded, stored.credits_reversed) == (400, 400)
    assert await app.mismatches() == []


async def test_a_refund_overtaking_the_paid_events_of_a_checkout_waits_for_them(
    app: App,
) -> None:
    """Stripe links a Checkout to its PaymentIntent only in the paid events, and refund
    objects carry no metadata of ours: the refund must wait (503, redelivered), not be
    recorded as another app's object and lost."""
    payment = await app.open_checkout(1000)
    paid_events = await app.pay(payment)
    # A refund made in the Stripe dashboard: its object names only the PaymentIntent.
    refund = GatewayRefund(
        "re_dashboard", payment.stripe_payment_intent_id, 1000, "usd", RefundStatus.SUCCEEDED
    )
    refund_created = stripe_event("refund.created", refund_object(refund))
    async with app.store.uow() as uow:  # as with Stripe: no PaymentIntent id at creation
        unseen = await uow.payments.get(payment.id)
        assert unseen is not None
        unseen.stripe_payment_intent_id = None
        await uow.payments.save(unseen)
        await uow.commit()

    with pytest.raises(EventNotReady):
        await app.handle(refund_created)
    await app.handle_all(paid_events)
    assert app.balance(payment.user_id) == 1000
    assert await app.handle(refund_created) == EventOutcome.UPDATED

    stored = app.payment(payment.id)
    assert stored.status is PaymentStatus.REFUNDED
    assert app.balance(payment.user_id) == 0
    assert await app.mismatches() == []


async def test_a_refund_of_an_unknown_intent_is_recorded_as_not_ours(app: App) -> None:
    refund = GatewayRefund("re_x", "pi_of_another_app", 500, "usd", RefundStatus.SUCCEEDED)
    event = stripe_event("refund.created", refund_object(refund))
    assert await app.handle(event) == EventOutcome.NOT_OURS
