"""Auto top-up under concurrency: whatever debits and workers run at once, one top-up
is in flight per user, one charge per top-up, and the monthly limit holds (SQLite
queues writers; PostgreSQL holds the account row and SKIPs LOCKED rows)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.sqlalchemy.tables import auto_top_ups
from adapters.sqlalchemy.uow import uow_factory
from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import run_auto_top_ups
from application.bootstrap import follow_ups
from application.queries import verify_ledger
from application.spending.debit import debit
from application.subscriptions.gateway import CustomerRequest
from domain.auto_top_up import AutoTopUpSettings
from domain.errors import InsufficientCredits
from domain.ledger import purchase_posting
from domain.spending import Debit
from tests.unit.conftest import PRICING, checkout_settings

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SETTINGS = AutoTopUpSettings(True, threshold_credits=500, amount=1000, monthly_limit=2000)


async def _user(
    engine: AsyncEngine, gateway: MemoryGateway, settings: AutoTopUpSettings = SETTINGS
) -> None:
    customer = await gateway.create_customer(
        CustomerRequest(user_id="u1", email="u1@example.com", idempotency_key="customer:u1")
    )
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "seed_u1", 1000), NOW)
        await uow.customers.add("u1", customer, NOW)
        await uow.auto_top_ups.save_settings("u1", settings, NOW)
        await uow.commit()
    await gateway.save_card(customer, "4242424242424242")


async def _debits(engine: AsyncEngine, count: int, prefix: str, credits: int = 10) -> None:
    factory, clock = uow_factory(engine, follow_ups(PRICING)), FixedClock(NOW)

    async def one(i: int) -> None:
        with contextlib.suppress(InsufficientCredits):
            await debit(Debit("u1", credits, f"{prefix}{i}"), uow_factory=factory, clock=clock)

    await asyncio.gather(*(one(i) for i in range(count)))


async def _workers(engine: AsyncEngine, gateway: MemoryGateway, count: int) -> None:
    settings = checkout_settings()
    terms = TopUpTerms(settings.pricing, settings.expires_in, settings.redirects)
    await asyncio.gather(
        *(
            run_auto_top_ups(
                uow_factory=uow_factory(engine), gateway=gateway, clock=FixedClock(NOW), terms=terms
            )
            for _ in range(count)
        )
    )


async def _charges(gateway: MemoryGateway) -> int:
    payloads = await gateway.event_payloads()
    return sum(p["type"] == "payment_intent.succeeded" for p in payloads)


async def _rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return [r.status for r in await conn.execute(select(auto_top_ups.c.status))]


async def test_100_concurrent_debits_crossing_the_threshold_charge_once(
    engine: AsyncEngine,
) -> None:
    gateway = MemoryGateway(lambda: NOW)
    await _user(engine, gateway)

    await _debits(engine, 100, "k")
    assert await _rows(engine) == ["requested"]
    await _workers(engine, gateway, 4)

    assert await _charges(gateway) == 1
    assert await _rows(engine) == ["succeeded"]
    assert await verify_ledger(uow_factory=uow_factory(engine)) == []


async def test_the_monthly_limit_holds_under_concurrent_debits_and_workers(
    engine: AsyncEngine,
) -> None:
    gateway = MemoryGateway(lambda: NOW)
    await _user(engine, gateway)

    for round_ in range(5):
        await asyncio.gather(_debits(engine, 60, f"r{round_}-"), _workers(engine, gateway, 3))
    await _workers(engine, gateway, 3)

    assert await _charges(gateway) == 2  # 2 x 1000 cents within 2000 a month
    assert sorted(await _rows(engine)) == ["succeeded", "succeeded"]


async def test_the_monthly_limit_counts_a_packages_price_under_concurrency(
    engine: AsyncEngine,
) -> None:
    """Settings saved with 1000 as their amount, naming "pro", which costs 5000: a limit of
    12000 admits two top-ups of the package (it would admit twelve of the amount)."""
    gateway = MemoryGateway(lambda: NOW)
    stale = AutoTopUpSettings(True, 500, 1000, "usd", "pro", monthly_limit=12000)
    await _user(engine, gateway, stale)

    for round_ in range(5):  # each round can spend a whole top-up (5500 credits)
        await asyncio.gather(
            _debits(engine, 60, f"r{round_}-", credits=100), _workers(engine, gateway, 3)
        )
    await _workers(engine, gateway, 3)

    assert await _charges(gateway) == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(select(auto_top_ups.c.status, auto_top_ups.c.amount))).all()
    assert sorted((r.status, r.amount) for r in rows) == [("succeeded", 5000)] * 2
