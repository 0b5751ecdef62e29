"""What completing or refunding a purchase does to the buyer's referral.

Handlers of ``PaymentCompleted``, ``RefundApplied`` and ``RefundRestored`` (wired in
``application.bootstrap``): the unit of work runs them in the transaction that grants,
reverses or restores the purchase's own credits, so a referral bonus exists exactly
when its qualifying purchase does. Each settles the referral on its first purchase
(``Referral.settle``): the first completed purchase decides it, a purchase opened
earlier but fulfilled later decides it again, and the first purchase's refunds (and
refunds that then failed) take the bonuses back or give them back. Lock order is the
purchase's: the payment row, the buyer's account, the buyer's trial, the buyer's
referral, the referrer's counter, the referrer's account; applying a code takes the
buyer's account before the referral as well.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork
from application.rewards.referral_bonuses import give_back_bonuses, take_back_bonuses
from domain.errors import NotFound
from domain.events import DisputeLost, PaymentCompleted, RefundApplied, RefundRestored
from domain.payment import Payment
from domain.referral import BonusMove, Referral, ReferralStatus, opened_before

log = logging.getLogger(__name__)


async def decide_referral(uow: UnitOfWork, event: PaymentCompleted, now: datetime) -> None:
    """The buyer's first purchase decides their referral, whichever is fulfilled first."""
    referral = await uow.referrals.get(event.user_id, for_update=True)
    if referral is None:
        return
    payment = await _payment(uow, event.payment_id)
    if await _comes_first(uow, referral, payment):
        await _settle(uow, referral, payment, now)


async def settle_referral_on_refunds(
    uow: UnitOfWork, event: RefundApplied | RefundRestored | DisputeLost, now: datetime
) -> None:
    """A refund of the first purchase was applied or undone, or a dispute of it lost: the
    bonuses follow."""
    referral = await uow.referrals.get(event.user_id, for_update=True)
    if referral is not None and referral.payment_id == event.payment_id:
        await _settle(uow, referral, await _payment(uow, event.payment_id), now)


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


async def _payment(uow: UnitOfWork, payment_id: str) -> Payment:
    """The payment an event of this transaction came from (saved, so it exists)."""
    payment = await uow.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} vanished")
    return payment
