"""What completing or refunding a purchase does to the buyer's referral and trial.

Both hooks run inside the transaction that grants, reverses or restores the purchase's
own credits (``fulfil_payment``, ``apply_refund``), so a referral bonus exists exactly
when its qualifying purchase does. Each settles the referral on its first purchase
(``Referral.settle``): the first completed purchase decides it, a purchase opened
earlier but fulfilled later decides it again, and the first purchase's refunds (and
refunds that then failed) take the bonuses back or give them back. Lock order is the
purchase's: the payment row, the buyer's account, the buyer's referral, the referrer's
counter, the referrer's account; applying a code takes the buyer's account before the
referral as well.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork
from application.rewards.referral_bonuses import give_back_bonuses, take_back_bonuses
from domain.payment import Payment
from domain.referral import BonusMove, Referral, ReferralStatus, opened_before

log = logging.getLogger(__name__)


async def on_purchase_completed(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """Called once per payment, right after its purchase grant."""
    await uow.trials.mark_converted(payment.user_id, now)
    referral = await uow.referrals.get(payment.user_id, for_update=True)
    if referral is not None and await _comes_first(uow, referral, payment):
        await _settle(uow, referral, payment, now)


async def on_refunds_changed(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """Called when a refund of ``payment`` was applied or undone (it failed)."""
    referral = await uow.referrals.get(payment.user_id, for_update=True)
    if referral is not None and referral.payment_id == payment.id:
        await _settle(uow, referral, payment, now)


async def _comes_first(uow: UnitOfWork, referral: Referral, payment: Payment) -> bool:
    """Whether ``payment`` is the first purchase as far as is known now."""
    if referral.status is ReferralStatus.PENDING:
        return True
    decided_at = referral.decided_at
    if referral.payment_id is None or (decided_at is not None and payment.created_at > decided_at):
        return False  # opened after the deciding payment was fulfilled: not first
    deciding = await uow.payments.get(referral.payment_id)
    return deciding is None or opened_before(payment, deciding)


async def _settle(uow: UnitOfWork, referral: Referral, first: Payment, now: datetime) -> None:
    """Bring the referral, the referrer's use and both bonuses to what ``first`` decides."""
    has_use = referral.holds_use
    if not referral.qualifies(first):
        if has_use:
            await uow.referrals.release_use(referral.referrer_id)
    elif not has_use:
        has_use = await uow.referrals.take_use(referral.referrer_id, referral.terms.max_uses)
    move = referral.settle(first, has_use, now)
    if move is BonusMove.GRANT:
        await give_back_bonuses(uow, referral, now)
    elif move is BonusMove.TAKE_BACK:
        await take_back_bonuses(uow, referral, now)
    await uow.referrals.save(referral)
    log.info(
        "referral_settled user_id=%s referrer_id=%s payment_id=%s status=%s bonus=%s",
        referral.user_id,
        referral.referrer_id,
        first.id,
        referral.status,
        None if move is None else move.value,
    )
