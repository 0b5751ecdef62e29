"""Alerts under concurrency: many debits crossing the threshold at once fire one alert
(SQLite queues writers; PostgreSQL holds the account row)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.uow import uow_factory
from application.spending.debit import debit
from domain.alerts import AlertSettings
from domain.errors import InsufficientCredits
from domain.ledger import purchase_posting
from domain.spending import Debit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def test_fifty_concurrent_debits_fire_each_alert_once(engine: AsyncEngine) -> None:
    factory, clock = uow_factory(engine), FixedClock(NOW)
    async with factory() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "seed_u1", 500), NOW)
        await uow.commit()
    async with factory() as uow:
        await uow.alerts.save_settings("u1", AlertSettings(low_balance_threshold=200), NOW)
        await uow.commit()

    async def one(i: int) -> None:
        with contextlib.suppress(InsufficientCredits):
            await debit(Debit("u1", 10, f"k{i}"), uow_factory=factory, clock=clock)

    await asyncio.gather(*(one(i) for i in range(60)))

    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.type).where(outbox.c.user_id == "u1"))).all()
    kinds = [row.type for row in rows]
    assert kinds.count("credits.low_balance") == 1
    assert kinds.count("credits.depleted") == 1
