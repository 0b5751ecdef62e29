"""One contract for the referral, coupon and trial repositories: memory, SQLite, PostgreSQL.

Each test states what the use cases rely on and checks it through the ports alone,
in separate units of work, so what is asserted is what was committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from application.rewards.ports import StatusTally
from domain.coupon import Coupon, CouponTerms, Redemption
from domain.errors import CouponCodeTaken
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.referral import Referral, ReferralStatus, ReferralTerms
from domain.trial import Trial
from domain.user import User

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    )
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


async def add_user(uow: UnitOfWorkFactory, user_id: str) -> None:
    async with uow() as work:
        await work.users.add(User(user_id, f"{user_id}@example.com", NOW, referral_code=user_id))
        await work.ledger.open_account(user_id)
        await work.commit()


# ---- referrals ------------------------------------------------------------------------


async def test_one_referral_per_user_and_the_profile_mirrors_it(uow: UnitOfWorkFactory) -> None:
    await add_user(uow, "b")
    referral = Referral("b", "a", ReferralTerms(900, 700, 3), NOW)
    async with uow() as work:
        assert await work.referrals.add(referral)
        assert not await work.referrals.add(replace(referral, referrer_id="c"))
        await work.commit()
    async with uow() as work:
        assert await work.referrals.get("b") == referral
        user = await work.users.get("b")
        assert user is not None and user.referred_by == "a"
        assert await work.referrals.get("a") is None


async def test_a_decision_is_saved(uow: UnitOfWorkFactory) -> None:
    referral = Referral("b", "a", ReferralTerms(), NOW)
    first = Payment(
        id="pay_1",
        user_id="b",
        kind=PaymentKind.CHECKOUT,
        amount=1000,
        currency="usd",
        credits=1000,
        status=PaymentStatus.COMPLETED,
        created_at=NOW,
    )
    async with uow() as work:
        await work.referrals.add(referral)
        locked = await work.referrals.get("b", for_update=True)
        assert locked is not None
        locked.settle(first, True, NOW + MINUTE)
        await work.referrals.save(locked)
        await work.commit()
    async with uow() as work:
        found = await work.referrals.get("b", for_update=True)
        assert found is not None
        assert (found.status, found.payment_id, found.decided_at) == (
            ReferralStatus.REWARDED,
            "pay_1",
            NOW + MINUTE,
        )
        first.amount_refunded = 1000
        found.settle(first, True, NOW + 2 * MINUTE)
        await work.referrals.save(found)
        await work.commit()
    async with uow() as work:
        found = await work.referrals.get("b")
    assert found is not None
    assert (found.status, found.reversals, found.reversed_at) == (
        ReferralStatus.REVERSED,
        1,
        NOW + 2 * MINUTE,
    )


async def test_a_use_released_is_taken_again(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        assert await work.referrals.take_use("a", 1)
        await work.referrals.release_use("a")
        await work.referrals.release_use("z")  # none taken: nothing to give back
        assert (await work.referrals.uses("a"), await work.referrals.uses("z")) == (0, 0)
        assert await work.referrals.take_use("a", 1)
        await work.commit()


async def test_take_use_stops_at_the_cap(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        taken = [await work.referrals.take_use("a", 2) for _ in range(3)]
        assert taken == [True, True, False]
        assert await work.referrals.take_use("a", 3)
        assert (await work.referrals.uses("a"), await work.referrals.uses("z")) == (3, 0)
        await work.commit()


async def test_tally_groups_a_referrers_referrals(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        for n, status in enumerate(["pending", "rewarded", "rewarded", "capped"]):
            referral = Referral(f"u{n}", "a", ReferralTerms(bonus_credits=100 * (n + 1)), NOW)
            referral.status = ReferralStatus(status)
            await work.referrals.add(referral)
        await work.referrals.add(Referral("x", "other", ReferralTerms(), NOW))
        tallies = sorted(await work.referrals.tally("a"), key=lambda t: t.status)
    assert tallies == [
        StatusTally(ReferralStatus.CAPPED, 1, 400),
        StatusTally(ReferralStatus.PENDING, 1, 100),
        StatusTally(ReferralStatus.REWARDED, 2, 500),
    ]


# ---- coupons --------------------------------------------------------------------------


def a_coupon(coupon_id: str = "cpn_1", code: str = "WELCOME", **terms: object) -> Coupon:
    return Coupon(coupon_id, code, CouponTerms(**{"credits": 500, **terms}), NOW, updated_at=NOW)


def a_redemption(n: int, coupon_id: str = "cpn_1", user_id: str = "u1") -> Redemption:
    return Redemption(f"red_{n}", coupon_id, "WELCOME", user_id, 500, NOW + n * MINUTE, None)


async def test_coupons_round_trip_and_codes_are_unique(uow: UnitOfWorkFactory) -> None:
    paris = timezone(timedelta(hours=1))
    coupon = a_coupon(
        valid_from=datetime(2026, 1, 1, 13, 0, tzinfo=paris),
        valid_until=NOW + timedelta(days=9),
        max_redemptions=5,
        assigned_user_id="u1",
        credit_expiry_days=30,
        active=False,
    )
    async with uow() as work:
        await work.coupons.add(coupon)
        await work.commit()
    async with uow() as work:
        with pytest.raises(CouponCodeTaken):
            await work.coupons.add(a_coupon("cpn_2"))
    async with uow() as work:
        found = await work.coupons.get_by_code("WELCOME", for_update=True)
        assert await work.coupons.get_by_code("welcome") is None  # callers normalise
    assert found == coupon
    assert found.terms.valid_from == NOW and found.terms.valid_from.tzinfo == UTC


async def test_saving_terms_never_touches_the_count(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        await work.coupons.add(a_coupon(max_redemptions=2))
        stale = await work.coupons.get_by_code("WELCOME")
        assert stale is not None
        assert await work.coupons.take_slot("cpn_1")
        stale.terms = replace(stale.terms, credits=900)
        stale.updated_at = NOW + MINUTE
        await work.coupons.save_terms(stale)
        await work.commit()
    async with uow() as work:
        found = await work.coupons.get_by_code("WELCOME")
    assert found is not None
    assert (found.terms.credits, found.redemptions, found.updated_at) == (900, 1, NOW + MINUTE)


async def test_claims_are_once_per_user_and_slots_stop_at_the_max(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        await work.coupons.add(a_coupon(max_redemptions=2))
        await work.coupons.add(a_coupon("cpn_2", "FREE"))
        assert await work.coupons.claim(a_redemption(1))
        assert not await work.coupons.claim(a_redemption(2))
        assert await work.coupons.claim(a_redemption(3, user_id="u2"))
        assert [await work.coupons.take_slot("cpn_1") for _ in range(3)] == [True, True, False]
        assert all([await work.coupons.take_slot("cpn_2") for _ in range(5)])  # unlimited
        await work.commit()


async def test_pages_are_newest_first_with_a_cursor(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        for n in range(3):
            await work.coupons.add(
                replace(a_coupon(f"cpn_{n}", f"C{n}X"), created_at=NOW + n * MINUTE)
            )
        for n in range(3):
            await work.coupons.claim(a_redemption(n, coupon_id=f"cpn_{n}"))
        await work.coupons.claim(a_redemption(9, coupon_id="cpn_0", user_id="u2"))
        await work.commit()
    async with uow() as work:
        first = await work.coupons.list(2, None)
        second = await work.coupons.list(2, first.next_cursor)
        history = await work.coupons.history("u1", 2, None)
        older = await work.coupons.history("u1", 2, history.next_cursor)
        of_zero = await work.coupons.redemptions_of("cpn_0", 10, None)
    assert [c.id for c in first.items] == ["cpn_2", "cpn_1"]
    assert [c.id for c in second.items] == ["cpn_0"] and second.next_cursor is None
    assert [r.id for r in history.items] == ["red_2", "red_1"]
    assert [r.id for r in older.items] == ["red_0"] and older.next_cursor is None
    assert [r.id for r in of_zero.items] == ["red_9", "red_0"]


# ---- trials ---------------------------------------------------------------------------


async def test_one_trial_per_email_key_and_per_user(uow: UnitOfWorkFactory) -> None:
    trial = Trial("u1", "jane@gmail.com", 300, NOW, NOW + timedelta(days=7))
    async with uow() as work:
        assert await work.trials.start(trial)
        assert not await work.trials.start(replace(trial, user_id="u2"))
        assert not await work.trials.start(replace(trial, email_key="other@example.com"))
        await work.commit()
    async with uow() as work:
        assert await work.trials.get("u1") == trial
        assert await work.trials.get("u2") is None


async def test_conversion_is_stamped_once(uow: UnitOfWorkFactory) -> None:
    trial = Trial("u1", "jane@example.com", 300, NOW, NOW + timedelta(days=7))
    async with uow() as work:
        await work.trials.start(trial)
        await work.trials.mark_converted("u1", NOW + MINUTE)
        await work.trials.mark_converted("u1", NOW + 2 * MINUTE)
        await work.trials.mark_converted("nobody", NOW)
        await work.commit()
    async with uow() as work:
        found = await work.trials.get("u1")
    assert found is not None and found.converted_at == NOW + MINUTE
