"""Which of our payments a gateway event is about."""

from __future__ import annotations

from application.ports import UnitOfWork
from application.webhooks.events import PaymentRef
from domain.payment import Payment


async def find_payment(uow: UnitOfWork, ref: PaymentRef) -> Payment | None:
    """Match by the gateway ids we stored, then by our metadata, and lock the row.

    A metadata match must agree with the ids already stored and with the user, so an
    object of another app on the same account is never taken for ours (docs/failure-modes.md #12).
    """
    if ref.session_id:
        payment = await uow.payments.find_by_session(ref.session_id, for_update=True)
        if payment is not None:
            return payment
    if ref.intent_id:
        payment = await uow.payments.find_by_intent(ref.intent_id, for_update=True)
        if payment is not None:
            return payment
    payment_id = ref.metadata.get("payment_id")
    if not payment_id:
        return None
    payment = await uow.payments.get(payment_id, for_update=True)
    if payment is None or ref.metadata.get("user_id") != payment.user_id:
        return None
    if _conflicts(payment.stripe_session_id, ref.session_id) or _conflicts(
        payment.stripe_payment_intent_id, ref.intent_id
    ):
        return None
    return payment


def learn_intent(payment: Payment, ref: PaymentRef) -> bool:
    """A Checkout payment learns its PaymentIntent id from the events that name it."""
    if payment.stripe_payment_intent_id is None and ref.intent_id:
        payment.stripe_payment_intent_id = ref.intent_id
        return True
    return False


def _conflicts(stored: str | None, reported: str | None) -> bool:
    return stored is not None and reported is not None and stored != reported
