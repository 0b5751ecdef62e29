"""Posting a referral's two bonuses, and taking them back, as its settlement decides.

Balances may go negative when a bonus taken back was spent, as with refunds
(docs/failure-modes.md #9, 10). A bonus given back after a reversal goes back to the
lots that reversal took from (those not expired since), so a pair of reports that
cancel out leaves the lots as they were; the rest becomes the grant's own lot.
"""

from __future__ import annotations

from datetime import datetime

from application.credits.grant import grant
from application.credits.reverse import reverse
from application.ports import UnitOfWork
from domain.events import ReferralReversed, ReferralRewarded
from domain.ledger import Allocation
from domain.lots import split_lapsed
from domain.referral import (
    SIDES,
    Referral,
    bonus_key,
    bonus_postings,
    reversal_key,
    reversal_postings,
)


async def give_back_bonuses(uow: UnitOfWork, referral: Referral, now: datetime) -> None:
    """Grant both bonuses: the first time, or again after ``referral.reversals`` reversals."""
    referred, referrer = [await _taken_by_last_reversal(uow, referral, s, now) for s in SIDES]
    for posting in bonus_postings(referral, (referred, referrer)):
        await grant(uow, posting, now)
    uow.record(
        ReferralRewarded(
            user_id=referral.referrer_id,
            occurred_at=now,
            referred_user_id=referral.user_id,
            payment_id=referral.payment_id or "",
            bonus_credits=referral.terms.bonus_credits,
            reversals=referral.reversals,
        )
    )


async def take_back_bonuses(uow: UnitOfWork, referral: Referral, now: datetime) -> None:
    """Take both bonuses back, each from its first grant's lot first."""
    lots = [await uow.lots.lot_for_key(bonus_key(referral, side)) for side in SIDES]
    referred_lot, referrer_lot = (None if lot is None else lot.entry_id for lot in lots)
    for posting in reversal_postings(referral, referred_lot, referrer_lot):
        await reverse(uow, posting, now)
    uow.record(
        ReferralReversed(
            user_id=referral.referrer_id,
            occurred_at=now,
            referred_user_id=referral.user_id,
            payment_id=referral.payment_id,
            bonus_credits=referral.terms.bonus_credits,
            reversals=referral.reversals,
        )
    )


async def _taken_by_last_reversal(
    uow: UnitOfWork, referral: Referral, side: str, now: datetime
) -> tuple[Allocation, ...]:
    if referral.reversals == 0:
        return ()
    entry = await uow.audit.find_entry(reversal_key(referral, side, referral.reversals))
    if entry is None:
        return ()
    taken = await uow.lots.allocations(entry.id)
    alive, _ = split_lapsed(taken, await uow.lots.lots([a.lot_entry_id for a in taken]), now)
    return alive
