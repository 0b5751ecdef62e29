"""Expiry workers and debits racing on the same lots, each in its own unit of work.

On PostgreSQL two workers page through ``expired_lots`` at once (``SKIP LOCKED``)
while debits of the same users land in between; on SQLite the same code queues on
``BEGIN IMMEDIATE``. Only the database decides, and whatever the interleaving: each
lot is expired at most once, an expiry takes only what no debit took, no lot gives
more than it holds, and no one deadlocks or sees a stale lot (``LotChanged``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.tables import ledger_allocations, ledger_entries
from adapters.sqlalchemy.uow import uow_factory
from domain.ledger import EntryKind, Posting, expiry_posting, purchase_posting

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USERS = [f"u{n}" for n in range(20)]
LOTS_PER_USER = 10  # 200 expired lots in all
LOT_CREDITS = 10
KEPT_CREDITS = 100
BATCH = 7


async def _seed(engine: AsyncEngine) -> None:
    """Each user: one purchase that never expires and ten small lots that have expired."""
    for user_id in USERS:
        async with uow_factory(engine)() as uow:
            await uow.ledger.open_account(user_id)
            await uow.ledger.post(purchase_posting(user_id, f"pay_{user_id}", KEPT_CREDITS), NOW)
            for n in range(LOTS_PER_USER):
                key = f"trial:{user_id}:{n}"
                expires_at = NOW - timedelta(minutes=n)
                posting = Posting(
                    user_id, LOT_CREDITS, EntryKind.TRIAL, "test", key, key, expires_at
                )
                await uow.ledger.post(posting, NOW - timedelta(days=1))
            await uow.commit()


async def _expiry_worker(engine: AsyncEngine) -> list[int]:
    """The batch job's loop: take a batch, expire it, commit; the lot ids it expired."""
    expired: list[int] = []
    while True:
        async with uow_factory(engine)() as uow:
            lots = await uow.lots.expired_lots(NOW, BATCH)
            if not lots:
                return expired
            for lot in lots:
                assert await uow.ledger.post(expiry_posting(lot), NOW) is not None
                expired.append(lot.entry_id)
            await asyncio.sleep(0.002)  # hold the locks while the others pile up
            await uow.commit()


async def _spend(engine: AsyncEngine, user_id: str, n: int) -> None:
    async with uow_factory(engine)() as uow:
        key = f"use:{user_id}:{n}"
        await uow.ledger.post(Posting(user_id, -15, EntryKind.USAGE_DEBIT, "req", key, key), NOW)
        await asyncio.sleep(0.001)
        await uow.commit()


async def _lot_totals(engine: AsyncEngine) -> dict[int, tuple[int, int, int]]:
    """Per expiring lot: (credits, remaining, credits taken by all allocations)."""
    taken = (
        select(ledger_allocations.c.lot_entry_id, func.sum(ledger_allocations.c.credits))
        .group_by(ledger_allocations.c.lot_entry_id)
        .subquery()
    )
    statement = (
        select(ledger_entries.c.id, ledger_entries.c.credits, ledger_entries.c.lot_remaining)
        .add_columns(func.coalesce(taken.c.sum, 0))
        .outerjoin(taken, taken.c.lot_entry_id == ledger_entries.c.id)
        .where(ledger_entries.c.credits > 0)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(statement)).all()
    return {row[0]: (row[1], row[2], int(row[3])) for row in rows}


async def _taken_by(engine: AsyncEngine, kind: EntryKind) -> int:
    """Credits the entries of ``kind`` took from lots, in all."""
    statement = (
        select(func.coalesce(func.sum(ledger_allocations.c.credits), 0))
        .join(ledger_entries, ledger_entries.c.id == ledger_allocations.c.entry_id)
        .where(ledger_entries.c.kind == kind)
    )
    async with engine.connect() as conn:
        return int((await conn.execute(statement)).scalar_one())


async def _check_ledger(engine: AsyncEngine) -> None:
    async with uow_factory(engine)() as uow:
        assert await uow.audit.verify() == []
        assert await uow.lots.expired_lots(NOW, 1000) == []
        for user_id in USERS:
            account = await uow.ledger.account(user_id)
            lots = await uow.lots.open_lots(user_id)
            assert account is not None and sum(lot.remaining for lot in lots) == account.balance


async def test_two_expiry_workers_expire_each_of_200_lots_exactly_once(
    engine: AsyncEngine,
) -> None:
    await _seed(engine)
    first, second = await asyncio.gather(_expiry_worker(engine), _expiry_worker(engine))
    if engine.dialect.name == "postgresql":  # SQLite's busy handler is not fair
        assert first and second, "SKIP LOCKED should have given both workers work"
    assert not set(first) & set(second)
    assert len(first) + len(second) == len(USERS) * LOTS_PER_USER
    await _check_ledger(engine)
    async with uow_factory(engine)() as uow:
        for user_id in USERS:
            account = await uow.ledger.account(user_id)
            assert account is not None and account.balance == KEPT_CREDITS


async def test_debits_racing_expiry_workers_never_over_consume_a_lot(engine: AsyncEngine) -> None:
    await _seed(engine)
    debits = [_spend(engine, user_id, n) for user_id in USERS for n in range(2)]
    results = await asyncio.gather(_expiry_worker(engine), _expiry_worker(engine), *debits)
    first, second = results[0], results[1]
    assert not set(first) & set(second)
    for credits, remaining, taken in (await _lot_totals(engine)).values():
        assert remaining == credits - taken >= 0
        if credits == LOT_CREDITS:  # an expired lot: debits and its expiry took it all
            assert remaining == 0
    assert await _taken_by(engine, EntryKind.USAGE_DEBIT) == len(debits) * 15
    await _check_ledger(engine)
