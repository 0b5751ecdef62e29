"""A failed refund leaves the lots as if it never happened: memory, SQLite, PostgreSQL.

The history of issue 8, item 1, through the refund use case on every adapter: 500
expiring credits (a trial or a coupon), a $10 purchase, a 600 refund reversed and then
reported failed, a full refund, the expiring credits' expiry. It must end where the
same history without the failed refund ends: a balance of 0 and no open lot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from application.refunds.apply_refund import apply_refunds
from application.refunds.gateway import GatewayRefund, RefundStatus
from domain.ledger import EntryKind, Posting, expiry_posting, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def factory(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


async def _start(factory: UnitOfWorkFactory, kind: EntryKind) -> None:
    payment = Payment(
        id="pay_1",
        user_id="u1",
        kind=PaymentKind.CHECKOUT,
        amount=1000,
        currency="usd",
        credits=1000,
        status=PaymentStatus.COMPLETED,
        created_at=NOW,
    )
    async with factory() as uow:
        await uow.ledger.open_account("u1")
        gift = Posting("u1", 500, kind, "gift", "g1", "gift:1", expires_at=EXPIRES)
        await uow.ledger.post(gift, NOW)
        await uow.payments.add(payment)
        await uow.ledger.post(purchase_posting("u1", "pay_1", 1000), NOW)
        await uow.commit()


async def _report(
    factory: UnitOfWorkFactory, refund_id: str, amount: int, status: RefundStatus, now: datetime
) -> None:
    async with factory() as uow:
        payment = await uow.payments.get("pay_1", for_update=True)
        assert payment is not None
        refund = GatewayRefund(refund_id, None, amount, "usd", status)
        await apply_refunds(uow, payment, [refund], now)
        await uow.commit()


async def _expire(factory: UnitOfWorkFactory, now: datetime) -> None:
    async with factory() as uow:
        for lot in await uow.lots.expired_lots(now, 100):
            await uow.ledger.post(expiry_posting(lot), now)
        await uow.commit()


async def _history(factory: UnitOfWorkFactory, kind: EntryKind, failed: bool) -> list[object]:
    await _start(factory, kind)
    if failed:
        await _report(factory, "re_1", 600, RefundStatus.PENDING, NOW)
        await _report(factory, "re_1", 600, RefundStatus.FAILED, NOW + timedelta(hours=1))
    await _report(factory, "re_2", 1000, RefundStatus.SUCCEEDED, NOW + timedelta(days=1))
    await _expire(factory, NOW + timedelta(days=8))
    async with factory() as uow:
        account = await uow.ledger.account("u1")
        assert account is not None
        assert list(await uow.audit.verify()) == []
        lots = [(lot.kind, lot.remaining) for lot in await uow.lots.open_lots("u1")]
        return [account.balance, lots]


@pytest.mark.parametrize("kind", [EntryKind.TRIAL, EntryKind.COUPON])
async def test_a_failed_refund_does_not_make_expiring_credits_permanent(
    factory: UnitOfWorkFactory, kind: EntryKind
) -> None:
    assert await _history(factory, kind, failed=True) == [0, []]


async def test_restored_credits_go_back_to_the_purchase_lot(factory: UnitOfWorkFactory) -> None:
    await _start(factory, EntryKind.TRIAL)
    await _report(factory, "re_1", 600, RefundStatus.PENDING, NOW)
    await _report(factory, "re_1", 600, RefundStatus.FAILED, NOW)
    async with factory() as uow:
        lots = [(lot.idempotency_key, lot.remaining) for lot in await uow.lots.open_lots("u1")]
        assert lots == [("gift:1", 500), ("purchase:pay_1", 1000)]
        assert list(await uow.audit.verify()) == []
