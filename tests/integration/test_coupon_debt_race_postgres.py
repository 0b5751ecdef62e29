"""A refund that puts a user in debt and a coupon redemption at the same moment.

PostgreSQL only (READ COMMITTED): on SQLite every transaction is ``BEGIN IMMEDIATE``
and the two simply take turns. The redemption must read the balance under the account
lock every ledger write takes, or it reads the balance from before the refund and a
user in debt redeems (the grant then repays the debt with a promotion).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.rewards.coupon_admin import create_coupon
from application.rewards.coupons import redeem_coupon
from domain.coupon import CouponTerms
from domain.errors import CouponBlockedByDebt
from domain.ledger import EntryKind, Posting, purchase_posting, refund_posting

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture
async def pg_engine(empty_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_pg_url)
    yield engine
    await engine.dispose()


async def _spent_purchase(engine: AsyncEngine, user_id: str) -> None:
    """100 credits bought, 80 of them spent."""
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account(user_id)
        await uow.ledger.post(purchase_posting(user_id, "pay_1", 100), NOW)
        spend = Posting(user_id, -80, EntryKind.USAGE_DEBIT, "request", "r1", "use:r1")
        await uow.ledger.post(spend, NOW)
        await uow.commit()


@pytest.mark.postgres
async def test_a_redemption_racing_a_refund_into_debt_is_refused(pg_engine: AsyncEngine) -> None:
    engine = pg_engine
    await _spent_purchase(engine, "usr_1")
    await create_coupon(
        "launch", CouponTerms(credits=500), uow_factory=uow_factory(engine), clock=CLOCK
    )

    async with uow_factory(engine)() as refund:  # the full refund, not yet committed
        await refund.ledger.post(refund_posting("usr_1", "pay_1", "re_1", 100), NOW)
        redeeming = asyncio.create_task(
            redeem_coupon("usr_1", "launch", uow_factory=uow_factory(engine), clock=CLOCK)
        )
        await asyncio.sleep(0.3)  # the redemption reads and waits on the account meanwhile
        await refund.commit()

    with pytest.raises(CouponBlockedByDebt):
        await redeeming
    async with uow_factory(engine)() as uow:
        account = await uow.ledger.account("usr_1")
    assert account is not None and account.balance == -80
