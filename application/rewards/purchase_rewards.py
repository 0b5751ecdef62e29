"""What completing or refunding a purchase does to the buyer's referral and trial.

Both hooks run inside the transaction that grants or reverses the purchase's own
credits (``fulfil_payment``, ``apply_refund``), so a referral bonus exists exactly
when its qualifying purchase does. Lock order is the purchase's: the payment row,
the buyer's account, the buyer's referral, the referrer's counter, the referrer's
account; applying a code takes the buyer's account before the referral as well.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork
from domain.payment import Payment
from domain.referral import (
    SIDES,
    Referral,
    ReferralStatus,
    bonus_key,
    bonus_postings,
    reversal_postings,
)

log = logging.getLogger(__name__)


async def on_purchase_completed(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """Called once per payment, right after its purchase grant."""
    await uow.trials.mark_converted(payment.user_id, now)
    referral = await uow.referrals.get(payment.user_id, for_update=True)
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return
    await _settle(uow, referral, payment, now)


async def _settle(uow: UnitOfWork, referral: Referral, payment: Payment, now: datetime) -> None:
    """The first purchase decides the referral, once: a bonus pair, or never."""
    if not referral.qualifies(payment):
        outcome = ReferralStatus.INELIGIBLE
    elif await uow.referrals.take_use(referral.referrer_id, referral.terms.max_uses):
        outcome = ReferralStatus.REWARDED
    else:
        outcome = ReferralStatus.CAPPED
    referral.decide(outcome, payment.id, now)
    if outcome is ReferralStatus.REWARDED:
        for posting in bonus_postings(referral):
            await uow.ledger.post(posting, now)
    await uow.referrals.save(referral)
    log.info(
        "referral_decided user_id=%s referrer_id=%s payment_id=%s outcome=%s",
        referral.user_id,
        referral.referrer_id,
        payment.id,
        outcome,
    )


async def on_refund_applied(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """Reverse both bonuses once refunds take the qualifying payment under the minimum."""
    referral = await uow.referrals.get(payment.user_id, for_update=True)
    if referral is not None and referral.is_undone_by(payment):
        await reverse_bonuses(uow, referral, now)


async def reverse_bonuses(uow: UnitOfWork, referral: Referral, now: datetime) -> bool:
    """Take back both bonuses of a rewarded referral (a refund, or a lost dispute).

    Each reversal has its own key, so this runs at most once; balances may go
    negative when the bonus was spent, as with refunds (docs/failure-modes.md #9, 10).
    """
    if not referral.reverse(now):
        return False
    lots = [await uow.lots.lot_for_key(bonus_key(referral, side)) for side in SIDES]
    referred_lot, referrer_lot = (None if lot is None else lot.entry_id for lot in lots)
    for posting in reversal_postings(referral, referred_lot, referrer_lot):
        await uow.ledger.post(posting, now)
    await uow.referrals.save(referral)
    log.info(
        "referral_reversed user_id=%s referrer_id=%s payment_id=%s",
        referral.user_id,
        referral.referrer_id,
        referral.payment_id,
    )
    return True
