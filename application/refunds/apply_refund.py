"""Reverse credits for refunds the gateway made, once per refund id, and give them back
if the refund then fails.

Used by the refund webhook events and by the admin refund endpoint, so a refund
seen by both reverses once. Reversal is proportional on cumulative amounts and takes
back the purchase's own unspent credits first (its lot), then other lots; a balance
may go negative when refunded credits were already spent (recorded debt). Each
refund applied is a ``RefundApplied`` event, and a refund reported failed or canceled
is undone by ``restore_refund`` (a ``RefundRestored`` event); the handler of both
settles the buyer's referral again in the same transaction (``application.bootstrap``):
refunds that take its qualifying purchase under the minimum reverse its bonuses, and a
failure that undoes them gives them back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from application.credits.reverse import reverse
from application.ports import UnitOfWork
from application.refunds.gateway import (
    FAILED_REFUND_STATUSES,
    REVERSING_REFUND_STATUSES,
    GatewayRefund,
    RefundStatus,
)
from application.refunds.restore_refund import restore_failed_refund
from domain.ledger import purchase_key, refund_posting
from domain.payment import Payment

log = logging.getLogger(__name__)


async def apply_refunds(
    uow: UnitOfWork, payment: Payment, refunds: Iterable[GatewayRefund], now: datetime
) -> dict[str, int]:
    """Apply each refund report to ``payment`` (locked).

    Returns, per refund whose credits changed, what it reverses now: the credits a
    new reversal took back, or 0 for a refund undone because it failed.
    """
    changed: dict[str, int] = {}
    for refund in refunds:
        if refund.currency and refund.currency.lower() != payment.currency:
            log.error(
                "refund_currency_mismatch payment_id=%s refund_id=%s currency=%s",
                payment.id,
                refund.refund_id,
                refund.currency,
            )
        elif refund.status in REVERSING_REFUND_STATUSES:
            reversed_credits = await _reverse(uow, payment, refund, now)
            if reversed_credits is not None:
                changed[refund.refund_id] = reversed_credits
        elif refund.status in FAILED_REFUND_STATUSES and await restore_failed_refund(
            uow, payment, refund, now
        ):
            changed[refund.refund_id] = 0
    if changed:
        await uow.payments.save(payment)
    return changed


async def _reverse(
    uow: UnitOfWork, payment: Payment, refund: GatewayRefund, now: datetime
) -> int | None:
    """Reverse a refund seen for the first time; None when it was already recorded.

    The log learns what the refund reverses before the payment records it, so a
    refund id seen before leaves the payment untouched.
    """
    reversed_credits = payment.credits_to_reverse(refund.amount)
    if not await uow.refunds.add(refund, payment.id, payment.user_id, reversed_credits, now):
        await _note_success(uow, refund)
        return None
    payment.record_refund(refund.amount, now, refund_id=refund.refund_id)
    await take_back(
        uow, payment.user_id, payment.id, purchase_key(payment.id), refund, reversed_credits, now
    )
    log.info(
        "refund_applied payment_id=%s user_id=%s refund_id=%s amount=%s credits_reversed=%s",
        payment.id,
        payment.user_id,
        refund.refund_id,
        refund.amount,
        reversed_credits,
    )
    return reversed_credits


async def take_back(
    uow: UnitOfWork,
    user_id: str,
    reference_id: str,
    grant_key: str,
    refund: GatewayRefund,
    credits: int,
    now: datetime,
) -> None:
    """Post a refund's reversal of ``credits``, taken from the refunded grant's own lot
    first (the grant keyed ``grant_key``: a purchase or a paid invoice), then others."""
    if credits <= 0:
        return
    lot = await uow.lots.lot_for_key(grant_key)
    posting = refund_posting(
        user_id,
        reference_id,
        refund.refund_id,
        credits,
        lot_entry_id=None if lot is None else lot.entry_id,
    )
    await reverse(uow, posting, now)


async def _note_success(uow: UnitOfWork, refund: GatewayRefund) -> None:
    """A refund recorded as pending has succeeded: keep the log's status current.

    Only ``pending`` moves: a failed or canceled refund is final, and a ``pending``
    report of a refund recorded as succeeded is older than what we know.
    """
    if refund.status is not RefundStatus.SUCCEEDED:
        return
    recorded = await uow.refunds.get(refund.refund_id)
    if recorded is not None and recorded.status is RefundStatus.PENDING:
        await uow.refunds.set_status(refund.refund_id, RefundStatus.SUCCEEDED)
