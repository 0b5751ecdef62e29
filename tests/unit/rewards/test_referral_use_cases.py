"""Referrals end to end on the memory adapters: apply, first purchase, cap, refunds."""

from __future__ import annotations

import pytest

from application.rewards.referrals import apply_referral, referral_stats
from domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeExhausted,
    ReferralCycle,
    ReferralWindowClosed,
    UnknownReferralCode,
)
from domain.ledger import EntryKind, Posting
from domain.referral import ReferralStatus, ReferralTerms
from domain.trial import TrialTerms
from tests.unit.conftest import App
from tests.unit.rewards_helpers import TERMS, buy, refund, sign_up


async def apply(app: App, user_id: str, code: str, terms: ReferralTerms = TERMS) -> None:
    user = app.store.state.users[user_id]
    await apply_referral(
        user, code, terms=terms, uow_factory=app.store.uow_factory, clock=app.clock
    )


def status(app: App, user_id: str) -> ReferralStatus:
    return app.store.state.rewards.referrals[user_id].status


async def test_a_qualifying_first_purchase_pays_both_sides_once(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code)
    await buy(app, b.user.id, 1000)
    assert app.balance(b.user.id) == 2000
    assert app.balance(a.user.id) == 1000
    assert status(app, b.user.id) is ReferralStatus.REWARDED
    await buy(app, b.user.id, 5000)
    assert app.balance(b.user.id) == 7000
    assert app.balance(a.user.id) == 1000
    bonuses = [e for e in app.entries() if e.kind is EntryKind.REFERRAL_BONUS]
    assert len(bonuses) == 2
    assert await app.mismatches() == []


async def test_a_first_purchase_under_the_minimum_ends_eligibility(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code.lower())
    await buy(app, b.user.id, 999)
    await buy(app, b.user.id, 5000)
    assert app.balance(b.user.id) == 5999
    assert app.balance(a.user.id) == 0
    assert status(app, b.user.id) is ReferralStatus.INELIGIBLE


async def test_non_usd_purchases_compare_by_the_credits_they_buy(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code)
    await buy(app, b.user.id, 926, "eur")  # 1000 credits at 1.08 per cent
    assert app.balance(b.user.id) == 2000 and app.balance(a.user.id) == 1000


async def test_the_referrer_is_paid_at_most_max_uses_times(app: App) -> None:
    terms = ReferralTerms(max_uses=2)
    a = await sign_up(app)
    friends = [await sign_up(app, code=a.user.referral_code, terms=terms) for _ in range(3)]
    for friend in friends:
        await buy(app, friend.user.id)
    assert app.balance(a.user.id) == 2000
    assert [app.balance(f.user.id) for f in friends] == [2000, 2000, 1000]
    assert status(app, friends[2].user.id) is ReferralStatus.CAPPED
    with pytest.raises(ReferralCodeExhausted):
        await sign_up(app, code=a.user.referral_code, terms=terms)


async def test_apply_works_until_the_first_purchase_and_only_once(app: App) -> None:
    a, c = await sign_up(app), await sign_up(app)
    b = await sign_up(app)
    await apply(app, b.user.id, a.user.referral_code)
    assert app.store.state.users[b.user.id].referred_by == a.user.id
    with pytest.raises(ReferralAlreadyApplied):
        await apply(app, b.user.id, c.user.referral_code)
    late = await sign_up(app)
    await buy(app, late.user.id, 300)
    with pytest.raises(ReferralWindowClosed):
        await apply(app, late.user.id, a.user.referral_code)
    await buy(app, b.user.id)
    assert app.balance(a.user.id) == 1000


async def test_own_unknown_and_mutual_codes_are_refused(app: App) -> None:
    a = await sign_up(app)
    with pytest.raises(OwnReferralCode):
        await apply(app, a.user.id, a.user.referral_code)
    with pytest.raises(UnknownReferralCode):
        await apply(app, a.user.id, "ZZZZZZZZ")
    with pytest.raises(UnknownReferralCode):
        await sign_up(app, code="not a code")
    b = await sign_up(app, code=a.user.referral_code)
    with pytest.raises(ReferralCycle):
        await apply(app, a.user.id, b.user.referral_code)
    assert app.store.state.rewards.referrals.keys() == {b.user.id}


async def test_a_second_account_on_the_same_mailbox_is_not_a_friend(app: App) -> None:
    a = await sign_up(app, "jane.doe@gmail.com")
    with pytest.raises(OwnReferralCode):
        await sign_up(app, "janedoe+again@gmail.com", code=a.user.referral_code)
    assert app.store.state.rewards.referrals == {}


async def test_a_full_refund_reverses_both_bonuses_into_debt_if_spent(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code)
    payment = await buy(app, b.user.id, 1000)
    await refund(app, payment, 1000)
    assert app.balance(b.user.id) == 0
    assert app.balance(a.user.id) == 0
    assert status(app, b.user.id) is ReferralStatus.REVERSED
    reversals = [e for e in app.entries() if e.reference_type == "referral" and e.credits < 0]
    assert sorted(e.user_id for e in reversals) == sorted([a.user.id, b.user.id])
    assert [lot.remaining for lot in app.store.state.lots.values()] == [0, 0, 0]
    assert await app.mismatches() == []


async def test_a_partial_refund_reverses_only_below_the_minimum(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code)
    payment = await buy(app, b.user.id, 5000)
    payment = await refund(app, payment, 4000)  # $10 kept
    assert app.balance(a.user.id) == 1000
    assert status(app, b.user.id) is ReferralStatus.REWARDED
    await refund(app, payment, 1)  # $9.99 kept: no longer a qualifying purchase
    assert app.balance(a.user.id) == 0
    assert app.balance(b.user.id) == 999  # the bonus is gone; 999 purchased credits stay
    assert status(app, b.user.id) is ReferralStatus.REVERSED


async def test_stats_count_each_outcome(app: App) -> None:
    a = await sign_up(app)
    rewarded, short, waiting = [await sign_up(app, code=a.user.referral_code) for _ in range(3)]
    await buy(app, rewarded.user.id)
    await buy(app, short.user.id, 500)
    stats = await referral_stats(a.user.id, terms=TERMS, uow_factory=app.store.uow_factory)
    assert (stats.referred_users, stats.completed, stats.ineligible, stats.pending) == (3, 1, 1, 1)
    assert (stats.credits_earned, stats.bonuses_remaining) == (1000, 9)
    assert waiting.user.id in app.store.state.rewards.referrals


async def test_reversing_spent_bonuses_records_debt(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code)
    payment = await buy(app, b.user.id)
    for user_id, credits in ((a.user.id, 1000), (b.user.id, 2000)):
        async with app.store.uow() as uow:
            await uow.ledger.post(
                Posting(
                    user_id, -credits, EntryKind.USAGE_DEBIT, "request", "r1", f"use:{user_id}"
                ),
                app.clock.now(),
            )
            await uow.commit()
    await refund(app, payment, 1000)
    assert app.balance(b.user.id) == -2000
    assert app.balance(a.user.id) == -1000
    assert await app.mismatches() == []


async def test_a_reversal_takes_back_the_bonus_lot_not_expiring_credits(app: App) -> None:
    a = await sign_up(app)
    b = await sign_up(app, code=a.user.referral_code, trial=TrialTerms(credits=300, days=7))
    payment = await buy(app, b.user.id)
    await refund(app, payment, 1000)
    assert app.balance(b.user.id) == 300
    (trial_lot,) = [lot for lot in app.store.state.lots.values() if lot.kind is EntryKind.TRIAL]
    assert trial_lot.remaining == 300  # soonest to expire, yet untouched by the reversals
