"""Find or record the refund request an admin refund call stands for (``attempts.py``).

Under the payment's row lock, so concurrent requests for one payment number their
rows one after the other: a keyed request finds its key's row (the same request, or
409), a key-less one the unanswered key-less row it repeats; anything else is a new
request, checked against what remains refundable and given the next number.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from application.ports import UnitOfWork, UnitOfWorkFactory
from application.purchases.orders import MAX_CLIENT_KEY_LENGTH
from application.refunds.attempts import AttemptState, RefundAttempt
from domain.errors import (
    IdempotencyKeyReused,
    NotFound,
    RefundNotAllowed,
    RequestInProgress,
    ValidationFailed,
)
from domain.payment import Payment

if TYPE_CHECKING:
    from application.refunds.refund_payment import RefundPayment


async def start_attempt(
    command: RefundPayment, uow_factory: UnitOfWorkFactory, now: datetime
) -> tuple[Payment, RefundAttempt]:
    key = command.idempotency_key
    if key is not None and not 1 <= len(key) <= MAX_CLIENT_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 characters", code="invalid_idempotency_key"
        )
    async with uow_factory() as uow:
        payment = await _locked_payment(uow, command)
        known = await _known(uow, payment, command, now)
        if known is not None:
            return payment, known
        attempt = await _new_attempt(uow, payment, command, now)
        if not await uow.refunds.start_attempt(attempt):
            raise RequestInProgress("a refund with this Idempotency-Key is in progress")
        await uow.commit()
    return payment, attempt


async def _locked_payment(uow: UnitOfWork, command: RefundPayment) -> Payment:
    if command.payment_id:
        payment = await uow.payments.get(command.payment_id, for_update=True)
    elif command.payment_intent_id:
        payment = await uow.payments.find_by_intent(command.payment_intent_id, for_update=True)
    else:
        raise RefundNotAllowed("payment_id or payment_intent_id is required")
    if payment is None:
        raise NotFound("no such payment")
    return payment


async def _known(
    uow: UnitOfWork, payment: Payment, command: RefundPayment, now: datetime
) -> RefundAttempt | None:
    """The recorded request this call repeats, if any."""
    if command.idempotency_key is None:
        earlier = await uow.refunds.attempts(payment.id)
        return next(
            (a for a in earlier if a.repeated_without_key(command.amount, command.reason, now)),
            None,
        )
    known = await uow.refunds.attempt_for_key(command.idempotency_key)
    if known is None:
        return None
    if not known.same_request(payment.id, command.amount, command.reason):
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if known.state is AttemptState.STARTED and not known.unanswered(now):
        raise RequestInProgress("a refund with this Idempotency-Key is in progress")
    return known


async def _new_attempt(
    uow: UnitOfWork, payment: Payment, command: RefundPayment, now: datetime
) -> RefundAttempt:
    amount = payment.refundable_amount if command.amount is None else command.amount
    payment.check_refund(amount)
    if payment.stripe_payment_intent_id is None:
        raise RefundNotAllowed(f"payment {payment.id} has no PaymentIntent to refund")
    earlier = await uow.refunds.attempts(payment.id)
    return RefundAttempt(
        payment_id=payment.id,
        number=max((a.number for a in earlier), default=0) + 1,
        client_key=command.idempotency_key,
        requested=command.amount,
        amount=amount,
        reason=command.reason,
        started_at=now,
    )
