"""POST /api/stripe/refund (admin): refund at the gateway, then reverse credits.

The gateway call happens outside any transaction; the reversal then goes through
the same per-refund path as the ``charge.refunded`` webhook, so whichever of the
two comes first reverses and the other is a no-op (docs/failure-modes.md #9).
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.refunds.apply_refund import apply_refunds
from application.refunds.gateway import RefundGateway, RefundRequest
from domain.errors import NotFound, RefundNotAllowed


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
    async with uow_factory() as uow:
        if command.payment_id:
            payment = await uow.payments.get(command.payment_id)
        elif command.payment_intent_id:
            payment = await uow.payments.find_by_intent(command.payment_intent_id)
        else:
            raise RefundNotAllowed("payment_id or payment_intent_id is required")
    if payment is None:
        raise NotFound("no such payment")
    amount = payment.refundable_amount if command.amount is None else command.amount
    payment.check_refund(amount)
    if payment.stripe_payment_intent_id is None:
        raise RefundNotAllowed(f"payment {payment.id} has no PaymentIntent to refund")
    refund = await gateway.refund(
        RefundRequest(
            payment_id=payment.id,
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=amount,
            reason=command.reason,
            idempotency_key=_gateway_key(
                payment.id, payment.amount_refunded, amount, command.idempotency_key
            ),
        )
    )
    async with uow_factory() as uow:
        locked = await uow.payments.get(payment.id, for_update=True)
        if locked is None:
            raise NotFound("no such payment")
        applied = await apply_refunds(uow, locked, [refund], clock.now())
        reversed_credits = applied.get(refund.refund_id)
        if reversed_credits is None:
            reversed_credits = await uow.refunds.credits_reversed(refund.refund_id) or 0
        await uow.commit()
    return RefundResult(
        refund_id=refund.refund_id,
        payment_id=payment.id,
        amount=refund.amount,
        currency=payment.currency,
        status=refund.status.value,
        credits_reversed=reversed_credits,
    )


def _gateway_key(payment_id: str, refunded_before: int, amount: int, client_key: str | None) -> str:
    """The gateway idempotency key of an admin refund.

    With the client's Idempotency-Key, retries of one request can never refund twice,
    whatever webhooks landed in between. Without one, a retry is only recognised while
    the refunded total is unchanged (an answer lost *and* its webhook already applied
    looks like a new request), which is why the README asks admins to send a key.
    """
    if client_key:
        return f"refund:{payment_id}:key:{client_key}"
    return f"refund:{payment_id}:{refunded_before}:{amount}"
