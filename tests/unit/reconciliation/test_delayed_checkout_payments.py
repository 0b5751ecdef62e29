"""A Checkout completed with a delayed payment method (SEPA, ACH): the session is
``complete`` but unpaid while the PaymentIntent is ``processing``. If the debit then
fails, the session stays ``complete`` and unpaid for good and its intent asks for a new
payment method that this session can never take: the sweep must close the payment,
not lease it again as "waiting" on every run."""

from __future__ import annotations

from datetime import timedelta

from adapters.sandbox.cards import CardError
from application.batch import NoControl
from application.purchases.gateway import CheckoutStatus, IntentStatus
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import App

DEBIT_FAILED = CardError("payment_intent_payment_attempt_failed", "The debit failed.")


async def completed_with_a_delayed_method(app: App) -> Payment:
    """The customer completed the session; the debit is processing at the gateway."""
    payment = await app.open_checkout()
    assert payment.stripe_session_id is not None
    session = app.sandbox_store.session(payment.stripe_session_id)
    intent = app.sandbox_store.intent(session.intent_id)
    session.status, intent.status = CheckoutStatus.COMPLETE, IntentStatus.PROCESSING
    app.sandbox_store.save(session, intent)
    return payment


def debit_fails(app: App, payment: Payment) -> None:
    assert payment.stripe_session_id is not None
    session = app.sandbox_store.session(payment.stripe_session_id)
    intent = app.sandbox_store.intent(session.intent_id)
    intent.status = IntentStatus.REQUIRES_PAYMENT_METHOD
    intent.last_error = DEBIT_FAILED
    app.sandbox_store.save(intent)


async def sweep(app: App) -> dict[str, int]:
    report = await expire_stale_sessions(
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
        policy=SweepPolicy(intent_ttl=timedelta(hours=24), lease=timedelta(minutes=5)),
        control=NoControl(),
    )
    assert report.ok, report.failures
    return dict(report.counts)


async def test_a_processing_delayed_payment_is_left_waiting(app: App) -> None:
    payment = await completed_with_a_delayed_method(app)
    app.clock.advance(timedelta(hours=2))

    assert await sweep(app) == {"waiting": 1}
    assert app.payment(payment.id).status is PaymentStatus.PENDING


async def test_a_delayed_payment_that_failed_is_closed_once(app: App) -> None:
    payment = await completed_with_a_delayed_method(app)
    debit_fails(app, payment)  # and its async_payment_failed webhook was lost
    app.clock.advance(timedelta(hours=2))

    first = await sweep(app)
    app.clock.advance(timedelta(minutes=10))  # past the lease
    again = await sweep(app)

    stored = app.payment(payment.id)
    assert (stored.status, stored.failure_reason) == (
        PaymentStatus.CANCELED,
        "payment_intent_payment_attempt_failed",
    )
    assert (first, again) == ({"canceled": 1}, {})


async def test_a_delayed_payment_whose_failure_webhook_came_is_closed_too(app: App) -> None:
    """``async_payment_failed`` leaves the payment ``failed``, which is still open."""
    payment = await completed_with_a_delayed_method(app)
    debit_fails(app, payment)
    async with app.store.uow() as uow:
        stored = await uow.payments.get(payment.id, for_update=True)
        assert stored is not None
        stored.fail("payment_intent_payment_attempt_failed", app.clock.now())
        await uow.payments.save(stored)
        await uow.commit()
    app.clock.advance(timedelta(hours=2))

    assert await sweep(app) == {"canceled": 1}
    app.clock.advance(timedelta(minutes=10))
    assert await sweep(app) == {}
    assert app.payment(payment.id).status is PaymentStatus.CANCELED
