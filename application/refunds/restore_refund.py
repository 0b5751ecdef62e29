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

The credits go back to the lots the reversal took them from (``refund_restore_posting``),
so the history ends where it would have without the failed refund: the purchase's own
lot holds them again, and credits from an expiring lot keep its expiry. Credits taken
from a lot that has expired since are not given back: they would be gone by now.

The payment records ``RefundRestored``; the credits given back are a grant like any
other, recorded as ``CreditsGranted``. Referral bonuses that the refund reversed are
given back when the purchase qualifies again (the ``RefundRestored`` handler in
``rewards.purchase_rewards``), each under its own key: the state is the one a
``failed`` report seen first leaves.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork
from application.refunds.gateway import REVERSING_REFUND_STATUSES, GatewayRefund
from domain.ledger import Allocation, purchase_key, refund_key, refund_restore_posting
from domain.lots import split_lapsed
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
    refills, lapsed = await _taken_back(uow, payment, refund.refund_id, now)
    credits = max(0, restored - lapsed)
    if credits > 0:
        posting = refund_restore_posting(
            payment.user_id, payment.id, refund.refund_id, credits, refills
        )
        await grant(uow, posting, now)
    log.info(
        "refund_restored payment_id=%s user_id=%s refund_id=%s status=%s credits_restored=%s"
        " credits_lapsed=%s",
        payment.id,
        payment.user_id,
        refund.refund_id,
        refund.status,
        credits,
        restored - credits,
    )
    return True


async def _taken_back(
    uow: UnitOfWork, payment: Payment, refund_id: str, now: datetime
) -> tuple[tuple[Allocation, ...], int]:
    """The lots to give the credits back to, and the credits taken from lots that have
    expired since.

    First the lots the refund's reversal took from (still alive), then the purchase's
    own lot with whatever room it has: rounding on cumulative totals may restore a
    credit more than this reversal took, and restored credits belong to the purchase.
    """
    reversal = await uow.audit.find_entry(refund_key(payment.id, refund_id))
    taken = [] if reversal is None else list(await uow.lots.allocations(reversal.id))
    alive, lapsed = split_lapsed(taken, await uow.lots.lots([a.lot_entry_id for a in taken]), now)
    purchase = await uow.lots.lot_for_key(purchase_key(payment.id))
    if purchase is None:
        return alive, lapsed
    refilled = sum(a.credits for a in alive if a.lot_entry_id == purchase.entry_id)
    room = purchase.credits - purchase.remaining - refilled
    if room <= 0:
        return alive, lapsed
    return (Allocation(purchase.entry_id, room), *alive), lapsed
