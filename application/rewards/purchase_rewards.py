"""What completing or refunding a purchase does to the buyer's referral.

Handlers of ``PaymentCompleted`` and ``RefundApplied`` (wired in ``application.bootstrap``):
the unit of work runs them in the transaction that grants or reverses the purchase's
own credits (``fulfil_payment``, ``apply_refund``), so a referral bonus exists exactly
when its qualifying purchase does. Lock order is the purchase's: the payment row, the
buyer's account, the buyer's trial, the buyer's referral, the referrer's counter, the
referrer's account; applying a code takes the buyer's account before the referral as
well.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork
from domain.errors import NotFound
from domain.events import (
    DisputeLost,
    PaymentCompleted,
    ReferralReversed,
    ReferralRewarded,
    RefundApplied,
)
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


async def decide_referral(uow: UnitOfWork, event: PaymentCompleted, now: datetime) -> None:
    """The buyer's first completed purchase decides their pending referral, once."""
    referral = await uow.referrals.get(event.user_id, for_update=True)
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return
    await _settle(uow, referral, await _payment(uow, event.payment_id), now)


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
            await grant(uow, posting, now)
        uow.record(
            ReferralRewarded(
                user_id=referral.referrer_id,
                occurred_at=now,
                referred_user_id=referral.user_id,
                payment_id=payment.id,
                bonus_credits=referral.terms.bonus_credits,
            )
        )
    await uow.referrals.save(referral)
    log.info(
        "referral_decided user_id=%s referrer_id=%s payment_id=%s outcome=%s",
        referral.user_id,
        referral.referrer_id,
        payment.id,
        outcome,
    )


async def reverse_referral_if_undone(uow: UnitOfWork, event: RefundApplied, now: datetime) -> None:
    """Reverse both bonuses once refunds take the qualifying payment under the minimum."""
    referral = await uow.referrals.get(event.user_id, for_update=True)
    if referral is None or referral.status is not ReferralStatus.REWARDED:
        return
    if referral.is_undone_by(await _payment(uow, event.payment_id)):
        await reverse_bonuses(uow, referral, now)


async def reverse_referral_if_disputed(uow: UnitOfWork, event: DisputeLost, now: datetime) -> None:
    """A lost dispute undoes the qualifying purchase as a full refund would."""
    referral = await uow.referrals.get(event.user_id, for_update=True)
    if referral is None or referral.status is not ReferralStatus.REWARDED:
        return
    if referral.payment_id == event.payment_id:
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
    uow.record(
        ReferralReversed(
            user_id=referral.referrer_id,
            occurred_at=now,
            referred_user_id=referral.user_id,
            payment_id=referral.payment_id,
            bonus_credits=referral.terms.bonus_credits,
        )
    )
    log.info(
        "referral_reversed user_id=%s referrer_id=%s payment_id=%s",
        referral.user_id,
        referral.referrer_id,
        referral.payment_id,
    )
    return True


async def _payment(uow: UnitOfWork, payment_id: str) -> Payment:
    """The payment an event of this transaction came from (saved, so it exists)."""
    payment = await uow.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} vanished")
    return payment
