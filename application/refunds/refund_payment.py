"""POST /api/stripe/refund (admin): refund at the gateway, then reverse credits.

The request is recorded first, in a short transaction (``attempts.py``: its number
makes the gateway idempotency key, and a retry finds it). The gateway call happens
outside any transaction; the reversal then goes through the same per-refund path as
the ``charge.refunded`` webhook, so whichever of the two comes first reverses and the
other is a no-op (docs/failure-modes.md #9). The answer is the gateway's refund as it
is (a replayed refund that failed since reports ``failed``, reversing nothing), stored
with the request for the retries that carry its Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from application.refunds.apply_refund import apply_refunds
from application.refunds.attempts import AttemptState, RefundAttempt
from application.refunds.gateway import (
    REVERSING_REFUND_STATUSES,
    GatewayRefund,
    RefundGateway,
    RefundRequest,
)
from application.refunds.start_attempt import start_attempt
from domain.errors import GatewayRejected, NotFound
from domain.payment import Payment


@dataclass(frozen=True, slots=True)
class RefundPayment:
    payment_id: str | None
    payment_intent_id: str | None
    amount: int | None
    reason: str | None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    credits_reversed: int


async def refund_payment(
    command: RefundPayment,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: RefundGateway,
    clock: Clock,
) -> RefundResult:
    payment, attempt = await start_attempt(command, uow_factory, clock.now())
    if attempt.state is not AttemptState.ANSWERED:
        attempt = await _refund(
            payment, attempt, uow_factory=uow_factory, gateway=gateway, clock=clock
        )
    assert attempt.refund_id is not None and attempt.status is not None
    return RefundResult(
        refund_id=attempt.refund_id,
        payment_id=payment.id,
        amount=attempt.amount,
        currency=payment.currency,
        status=attempt.status.value,
        credits_reversed=attempt.credits_reversed or 0,
    )


async def _refund(
    payment: Payment,
    attempt: RefundAttempt,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: RefundGateway,
    clock: Clock,
) -> RefundAttempt:
    """Ask the gateway, then apply and store its answer; a failure keeps the request
    for a retry (lost: the gateway may have refunded) unless the gateway refused it."""
    assert payment.stripe_payment_intent_id is not None
    request = RefundRequest(
        payment.id,
        payment.stripe_payment_intent_id,
        attempt.amount,
        attempt.reason,
        attempt.gateway_key,
    )
    try:
        refund = await gateway.refund(request)
        async with uow_factory() as uow:
            answered = await _apply(uow, payment.id, attempt, refund, clock)
            await uow.commit()
    except GatewayRejected:
        await _settle(uow_factory, attempt, drop=True)
        raise
    except Exception:
        await _settle(uow_factory, attempt.lost(), drop=False)
        raise
    return answered


async def _apply(
    uow: UnitOfWork, payment_id: str, attempt: RefundAttempt, refund: GatewayRefund, clock: Clock
) -> RefundAttempt:
    locked = await uow.payments.get(payment_id, for_update=True)
    if locked is None:
        raise NotFound("no such payment")
    applied = await apply_refunds(uow, locked, [refund], clock.now())
    credits = applied.get(refund.refund_id)
    if credits is None:  # applied before (its webhook, or a replay): as recorded now
        recorded = await uow.refunds.get(refund.refund_id)
        standing = recorded is not None and recorded.status in REVERSING_REFUND_STATUSES
        credits = recorded.credits_reversed if recorded is not None and standing else 0
    answered = attempt.answered(refund.refund_id, refund.status, credits)
    await uow.refunds.save_attempt(answered)
    return answered


async def _settle(uow_factory: UnitOfWorkFactory, attempt: RefundAttempt, *, drop: bool) -> None:
    async with uow_factory() as uow:
        if drop:
            await uow.refunds.drop_attempt(attempt)
        else:
            await uow.refunds.save_attempt(attempt)
        await uow.commit()
