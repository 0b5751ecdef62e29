"""Give back the credits of a refund that failed at the gateway, exactly once.

A refund reported ``pending`` or ``succeeded`` reverses credits at once; Stripe may
later report the same refund ``failed`` or ``canceled`` (``refund.updated``,
``charge.refund.updated``, ``refund.failed``, or a ``charge.refunded`` listing it so):
the money stayed with the merchant, so the reversal is undone. The refund log's row
decides, under the payment's row lock, whatever the order of the reports:

- a failure of a refund that reversed credits restores them (a positive entry keyed
  ``refund_restored:<payment id>:<refund id>``) and marks the row failed or canceled;
- a failure of a refund never seen is recorded as such, reversing nothing, so a stale
  ``pending`` report of it arriving later finds the row and does nothing;
- a failure already recorded does nothing.

The payment records ``RefundRestored``; the credits given back are a grant like any
other, recorded as ``CreditsGranted``.

Referral bonuses that the refund reversed stay reversed: the referral was decided
once, and re-granting them would let a refund that bounced pay out twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork
from application.refunds.gateway import REVERSING_REFUND_STATUSES, GatewayRefund
from domain.ledger import refund_restore_posting
from domain.payment import Payment

log = logging.getLogger(__name__)


async def restore_failed_refund(
    uow: UnitOfWork, payment: Payment, refund: GatewayRefund, now: datetime
) -> bool:
    """Undo ``refund`` on ``payment`` (locked) if it had applied; True when it did.

    The caller saves the payment.
    """
    recorded = await uow.refunds.get(refund.refund_id)
    if recorded is None:
        await uow.refunds.add(refund, payment.id, payment.user_id, 0, now)
        return False
    if recorded.status not in REVERSING_REFUND_STATUSES:
        return False
    still_refunded = sum(
        other.amount
        for other in await uow.refunds.for_payment(payment.id)
        if other.refund_id != refund.refund_id and other.status in REVERSING_REFUND_STATUSES
    )
    await uow.refunds.set_status(refund.refund_id, refund.status)
    restored = payment.restore_refund(still_refunded, now, refund_id=refund.refund_id)
    if restored > 0:
        posting = refund_restore_posting(payment.user_id, payment.id, refund.refund_id, restored)
        await grant(uow, posting, now)
    log.info(
        "refund_restored payment_id=%s user_id=%s refund_id=%s status=%s credits_restored=%s",
        payment.id,
        payment.user_id,
        refund.refund_id,
        refund.status,
        restored,
    )
    return True
