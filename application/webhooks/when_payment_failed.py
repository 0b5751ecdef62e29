"""The payment will not be paid (this time): record why, in the payment's own states.

Each transition is monotonic (a paid payment stays paid), so a late failure report
changes nothing. An auto top-up's authentication Checkout that expired ends its top-up
in the same transaction (``auto_top_up.checkout``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.auto_top_up.checkout import top_up_checkout_closed
from application.ports import UnitOfWork
from application.webhooks.events import CheckoutExpired, PaymentCanceled, PaymentFailed, PaymentRef
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.payment_lookup import find_payment, learn_intent
from domain.payment import Payment

DEFAULT_REASON = "payment_failed"


async def on_payment_failed(uow: UnitOfWork, event: PaymentFailed, now: datetime) -> Handled:
    reason = event.reason or DEFAULT_REASON
    return await _close(uow, event.payment, lambda payment: payment.fail(reason, now), now)


async def on_payment_canceled(uow: UnitOfWork, event: PaymentCanceled, now: datetime) -> Handled:
    reason = event.reason or DEFAULT_REASON
    return await _close(uow, event.payment, lambda payment: payment.cancel(reason, now), now)


async def on_checkout_expired(uow: UnitOfWork, event: CheckoutExpired, now: datetime) -> Handled:
    return await _close(uow, event.payment, lambda payment: payment.expire(now), now)


async def _close(
    uow: UnitOfWork, ref: PaymentRef, change: Callable[[Payment], bool], now: datetime
) -> Handled:
    payment = await find_payment(uow, ref)
    if payment is None:
        return NOT_OURS
    learned = learn_intent(payment, ref)
    changed = change(payment)
    if changed or learned:
        await uow.payments.save(payment)
    if changed:
        await top_up_checkout_closed(uow, payment, now)
    return Handled(EventOutcome.UPDATED if changed else EventOutcome.NO_CHANGE, payment.id)
