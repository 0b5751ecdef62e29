"""The money arrived: grant the payment's credits once, after checking what was paid."""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from application.purchases.fulfil_payment import FulfilOutcome, fulfil, grant_purchase
from application.webhooks.events import CheckoutCompleted, PaymentSucceeded
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.payment_lookup import find_payment, learn_intent


async def on_payment_succeeded(
    uow: UnitOfWork, event: PaymentSucceeded | CheckoutCompleted, now: datetime
) -> Handled:
    completed = await uow.payments.complete_open(event.payment, event.amount, event.currency, now)
    if completed is not None:  # the usual case, in one statement
        granted = await grant_purchase(uow, completed, now, event.type)
        outcome = (
            EventOutcome.GRANTED if granted is FulfilOutcome.GRANTED else EventOutcome.NO_CHANGE
        )
        return Handled(outcome, completed.id)
    payment = await find_payment(uow, event.payment)
    if payment is None:
        return NOT_OURS
    learned = learn_intent(payment, event.payment)
    result = await fulfil(uow, payment, event.amount, event.currency, now, event.type)
    if result is FulfilOutcome.GRANTED:
        return Handled(EventOutcome.GRANTED, payment.id)
    if learned:
        await uow.payments.save(payment)
    if result is FulfilOutcome.AMOUNT_MISMATCH:
        return Handled(EventOutcome.REJECTED, payment.id)
    return Handled(EventOutcome.NO_CHANGE, payment.id)


async def on_checkout_completed(
    uow: UnitOfWork, event: CheckoutCompleted, now: datetime
) -> Handled:
    """Paid now, or by a delayed method whose success (or failure) is reported later."""
    if event.paid:
        return await on_payment_succeeded(uow, event, now)
    payment = await find_payment(uow, event.payment)
    if payment is None:
        return NOT_OURS
    if learn_intent(payment, event.payment):
        await uow.payments.save(payment)
    return Handled(EventOutcome.WAITING, payment.id)
