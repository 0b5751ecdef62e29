"""Owner reads of a Checkout Session or PaymentIntent, which also repair missed webhooks.

If the gateway says the payment succeeded and we have not fulfilled it, fulfil now
through the same exactly-once path as the webhook (``purchase:<payment id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.auto_top_up.checkout import top_up_checkout_closed
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.fulfil_payment import fulfil
from application.purchases.gateway import (
    CheckoutGateway,
    CheckoutStatus,
    IntentGateway,
    IntentStatus,
)
from domain.errors import NotFound
from domain.payment import OPEN, Payment


@dataclass(frozen=True, slots=True)
class PaymentView:
    payment: Payment
    gateway_status: str
    paid_at_gateway: bool
    client_secret: str | None = None


async def _owned(
    uow_factory: UnitOfWorkFactory,
    user_id: str,
    *,
    session_id: str | None = None,
    intent_id: str | None = None,
) -> Payment:
    async with uow_factory() as uow:
        if session_id is not None:
            payment = await uow.payments.find_by_session(session_id)
        else:
            assert intent_id is not None
            payment = await uow.payments.find_by_intent(intent_id)
    if payment is None or payment.user_id != user_id:
        raise NotFound(
            "no such session or payment intent"
        )  # never reveal others' (docs/failure-modes.md #8)
    return payment


async def sync_checkout_session(
    session_id: str,
    user_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: CheckoutGateway,
    clock: Clock,
) -> PaymentView:
    payment = await _owned(uow_factory, user_id, session_id=session_id)
    state = await gateway.get_checkout(session_id)
    expired = state.status is CheckoutStatus.EXPIRED and payment.status in OPEN
    if not payment.is_paid and (state.paid or expired):
        payment = await apply_gateway_state(
            uow_factory,
            payment.id,
            clock.now(),
            paid=state.paid,
            amount=state.amount,
            currency=state.currency,
            intent_id=state.payment_intent_id,
            source="session_poll",
        )
    return PaymentView(payment, state.status.value, state.paid)


async def sync_payment_intent(
    intent_id: str,
    user_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: IntentGateway,
    clock: Clock,
) -> PaymentView:
    payment = await _owned(uow_factory, user_id, intent_id=intent_id)
    intent = await gateway.get_payment_intent(intent_id)
    paid = intent.status is IntentStatus.SUCCEEDED
    if not payment.is_paid and paid:
        payment = await apply_gateway_state(
            uow_factory,
            payment.id,
            clock.now(),
            paid=True,
            amount=intent.amount_received,
            currency=intent.currency,
            intent_id=intent_id,
            source="intent_poll",
        )
    return PaymentView(payment, intent.status.value, paid, intent.client_secret)


async def apply_gateway_state(
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    now: datetime,
    *,
    paid: bool,
    amount: int | None,
    currency: str | None,
    intent_id: str | None,
    source: str,
    cancel_reason: str | None = None,
) -> Payment:
    """Bring the payment in line with what the gateway said, in one short transaction.

    Paid: fulfil through the exactly-once path. Not paid: the gateway object is closed,
    so close the payment too, as canceled with ``cancel_reason`` (a PaymentIntent) or
    as expired (a Checkout Session), and with it an auto top-up waiting for it to be
    paid. Shared by the owner polls and the batch sweep.
    """
    async with uow_factory() as uow:
        payment = await uow.payments.get(payment_id, for_update=True)
        if payment is None:
            raise NotFound(f"payment {payment_id} vanished")
        if payment.stripe_payment_intent_id is None and intent_id:
            payment.stripe_payment_intent_id = intent_id
            await uow.payments.save(payment)
        if paid:
            await fulfil(uow, payment, amount, currency, now, source)
        elif _close(payment, now, cancel_reason):
            await uow.payments.save(payment)
            await top_up_checkout_closed(uow, payment, now)
        await uow.commit()
    return payment


def _close(payment: Payment, now: datetime, cancel_reason: str | None) -> bool:
    if cancel_reason is not None:
        return payment.cancel(cancel_reason, now)
    return payment.expire(now)
