"""Concurrent redemptions and first purchases, each in its own unit of work.

Written for PostgreSQL (READ COMMITTED, row locks, unique indexes); all but the
hundred-user race run on a SQLite file too, where ``BEGIN IMMEDIATE`` queues the
writers. Only the database decides: the (coupon, user) unique row, the conditional
``UPDATE`` of a coupon's count, and the conditional upsert of a referrer's uses
(docs/failure-modes.md #4, 5, 10).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import coupon_redemptions, coupons, ledger_entries
from adapters.sqlalchemy.uow import uow_factory
from application.accounts.users import create_user
from application.purchases.fulfil_payment import fulfil
from application.rewards.coupon_admin import create_coupon
from application.rewards.coupons import redeem_coupon
from application.rewards.referrals import apply_referral
from domain.coupon import CouponTerms
from domain.errors import CouponAlreadyRedeemed, CouponExhausted, ReferralWindowClosed
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.referral import ReferralStatus, ReferralTerms
from domain.user import User

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


async def _users(
    engine: AsyncEngine, count: int, tag: str, code: str | None = None, **terms: int
) -> list[User]:
    made = []
    for n in range(count):
        created = await create_user(
            f"{tag}{n}@example.com",
            referred_by_code=code,
            referral_terms=ReferralTerms(**terms),
            uow_factory=uow_factory(engine),
            clock=CLOCK,
        )
        made.append(created.user)
    return made


async def _scalar(engine: AsyncEngine, statement) -> int:
    async with engine.connect() as conn:
        value: int = (await conn.execute(statement)).scalar_one()
    return value


async def _accounts(engine: AsyncEngine, count: int) -> list[str]:
    """Redeemers need only an account: opened in one transaction, to keep setup fast."""
    user_ids = [f"usr_{n}" for n in range(count)]
    async with uow_factory(engine)() as uow:
        for user_id in user_ids:
            await uow.ledger.open_account(user_id)
        await uow.commit()
    return user_ids


async def _redeem(engine: AsyncEngine, user_id: str) -> str:
    try:
        await redeem_coupon(user_id, "launch", uow_factory=uow_factory(engine), clock=CLOCK)
    except (CouponExhausted, CouponAlreadyRedeemed) as refused:
        return refused.code
    return "ok"


@pytest.fixture
async def pg_engine(empty_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_pg_url)
    yield engine
    await engine.dispose()


@pytest.mark.postgres
async def test_a_hundred_users_race_for_a_ten_use_coupon(pg_engine: AsyncEngine) -> None:
    """PostgreSQL only: on SQLite the hundred would simply queue one behind another."""
    engine = pg_engine
    users = await _accounts(engine, 100)
    terms = CouponTerms(credits=500, max_redemptions=10)
    await create_coupon("launch", terms, uow_factory=uow_factory(engine), clock=CLOCK)
    outcomes = await asyncio.gather(*(_redeem(engine, user_id) for user_id in users))
    assert outcomes.count("ok") == 10
    assert outcomes.count("coupon_exhausted") == 90
    assert await _scalar(engine, select(coupons.c.redemptions)) == 10
    assert await _scalar(engine, select(func.count()).select_from(coupon_redemptions)) == 10
    granted = select(func.count()).where(ledger_entries.c.kind == "coupon")
    assert await _scalar(engine, granted) == 10


async def test_one_user_redeeming_twenty_times_at_once_is_granted_once(
    engine: AsyncEngine,
) -> None:
    (user_id,) = await _accounts(engine, 1)
    await create_coupon(
        "launch", CouponTerms(credits=500), uow_factory=uow_factory(engine), clock=CLOCK
    )
    outcomes = await asyncio.gather(*(_redeem(engine, user_id) for _ in range(20)))
    assert outcomes.count("ok") == 1
    assert outcomes.count("coupon_already_redeemed") == 19
    async with uow_factory(engine)() as uow:
        account = await uow.ledger.account(user_id)
    assert account is not None and account.balance == 500
    assert await _scalar(engine, select(coupons.c.redemptions)) == 1


async def _buy(engine: AsyncEngine, user_id: str, n: int) -> str:
    """A $10 payment of ``user_id`` completed through the one fulfilment path."""
    payment = Payment(
        f"pay_{user_id}_{n}", user_id, PaymentKind.CHECKOUT, 1000, "usd", 1000,
        PaymentStatus.PENDING, NOW,
    )  # fmt: skip
    async with uow_factory(engine)() as uow:
        await uow.payments.add(payment)
        await uow.commit()
    return payment.id


async def _complete(engine: AsyncEngine, payment_id: str) -> None:
    async with uow_factory(engine)() as uow:
        payment = await uow.payments.get(payment_id, for_update=True)
        assert payment is not None
        await fulfil(uow, payment, 1000, "usd", NOW, "test")
        await asyncio.sleep(0.01)  # hold the transaction open while the others pile up
        await uow.commit()


@pytest.mark.parametrize("buyers", [2, 10])
async def test_a_referrer_with_one_bonus_left_is_paid_once(
    engine: AsyncEngine, buyers: int
) -> None:
    (referrer,) = await _users(engine, 1, "referrer")
    assert referrer.referral_code is not None
    first, *racing = await _users(engine, buyers + 1, "friend", referrer.referral_code, max_uses=2)
    await _complete(engine, await _buy(engine, first.id, 0))
    payments = [await _buy(engine, user.id, 1) for user in racing]
    await asyncio.gather(*(_complete(engine, payment_id) for payment_id in payments))
    async with uow_factory(engine)() as uow:
        balances = [(await uow.ledger.account(u.id)).balance for u in racing]  # type: ignore[union-attr]
        statuses = [(await uow.referrals.get(u.id)).status for u in racing]  # type: ignore[union-attr]
        referrer_account = await uow.ledger.account(referrer.id)
        assert await uow.referrals.uses(referrer.id) == 2
        assert await uow.audit.verify() == []
    assert referrer_account is not None and referrer_account.balance == 2000
    assert sorted(balances) == [1000] * (buyers - 1) + [2000]
    assert statuses.count(ReferralStatus.REWARDED) == 1
    assert statuses.count(ReferralStatus.CAPPED) == buyers - 1


async def _apply(engine: AsyncEngine, user: User, code: str) -> str:
    try:
        await apply_referral(
            user, code, terms=ReferralTerms(), uow_factory=uow_factory(engine), clock=CLOCK
        )
    except ReferralWindowClosed as refused:
        return refused.code
    return "applied"


async def test_a_code_applied_during_the_first_purchase_is_decided_by_it_or_refused(
    engine: AsyncEngine,
) -> None:
    """Never left pending behind a completed purchase, to pay out on a later one."""
    (referrer,) = await _users(engine, 1, "referrer")
    assert referrer.referral_code is not None
    buyers = await _users(engine, 8, "buyer")
    payments = [await _buy(engine, buyer.id, 0) for buyer in buyers]
    outcomes = await asyncio.gather(
        *(_apply(engine, buyer, referrer.referral_code) for buyer in buyers),
        *(_complete(engine, payment_id) for payment_id in payments),
    )
    async with uow_factory(engine)() as uow:
        referrals = [await uow.referrals.get(buyer.id) for buyer in buyers]
    for outcome, referral in zip(outcomes, referrals, strict=False):
        if outcome == "applied":
            assert referral is not None and referral.status is ReferralStatus.REWARDED
        else:
            assert referral is None
