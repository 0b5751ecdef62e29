"""``ledger verify`` checks the lots too: memory, SQLite, PostgreSQL, and the command.

The lots must hold exactly the spendable part of each balance (their unspent
remainders add up to ``max(sum of entries, 0)``) and no lot may have given more than
its grant (allocations plus remainder within its credits). Each test builds a clean
ledger through the ports, then tampers with one lot or allocation underneath them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import accounts, ledger_allocations, ledger_entries
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from domain.ledger import Allocation, EntryKind, Posting, expiry_posting
from domain.ledger_checks import LotMismatch, OverConsumedLot
from entrypoints.cli import app as creditline
from tests.conftest import run_async

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Backend:
    uow: UnitOfWorkFactory
    set_lot_remaining: Callable[[int, int], Awaitable[None]]
    set_allocated: Callable[[int, int], Awaitable[None]]  # a debit's only allocation


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        store = MemoryStore()

        async def memory_lot(entry_id: int, remaining: int) -> None:
            lots = store.state.lots
            lots[entry_id] = replace(lots[entry_id], remaining=remaining)

        async def memory_allocated(debit_id: int, credits: int) -> None:
            [(lot_id, _)] = store.state.allocations[debit_id]
            store.state.allocations[debit_id] = (Allocation(lot_id, credits),)

        yield Backend(store.uow_factory, memory_lot, memory_allocated)
        return
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    )
    engine = make_engine(url)

    async def sql_lot(entry_id: int, remaining: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(ledger_entries)
                .where(ledger_entries.c.id == entry_id)
                .values(lot_remaining=remaining)
            )

    async def sql_allocated(debit_id: int, credits: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(ledger_allocations)
                .where(ledger_allocations.c.entry_id == debit_id)
                .values(credits=credits)
            )

    yield Backend(uow_factory(engine), sql_lot, sql_allocated)
    await engine.dispose()


def posting(
    user_id: str, credits: int, key: str, kind: EntryKind, expires_at: datetime | None = None
) -> Posting:
    return Posting(user_id, credits, kind, "test", key, key, expires_at)


async def a_busy_ledger(uow: UnitOfWorkFactory) -> dict[str, int]:
    """Grants, a debit across lots, an expiry, debt and its repayment; entry ids by key."""
    soon = NOW + timedelta(days=1)
    async with uow() as work:
        for user_id in ("u1", "u2"):
            await work.ledger.open_account(user_id)
        steps = [
            posting("u1", 100, "g1", EntryKind.COUPON),
            posting("u1", 50, "trial", EntryKind.TRIAL, expires_at=soon),
            posting("u1", -70, "d1", EntryKind.USAGE_DEBIT),  # the trial's 50, then g1's 20
            posting("u2", -40, "owed", EntryKind.REFUND_REVERSAL),
            posting("u2", 100, "g2", EntryKind.COUPON),  # repays 40 first
        ]
        ids = {}
        for step in steps:
            entry = await work.ledger.post(step, NOW)
            assert entry is not None
            ids[step.idempotency_key] = entry.id
        await work.commit()
    return ids


async def test_a_busy_but_honest_ledger_verifies_after_an_expiry_too(backend: Backend) -> None:
    await a_busy_ledger(backend.uow)
    later = NOW + timedelta(days=2)
    async with backend.uow() as uow:
        assert await uow.audit.verify() == []
        soon = NOW + timedelta(days=1)
        await uow.ledger.post(posting("u1", 30, "t2", EntryKind.TRIAL, expires_at=soon), NOW)
        await uow.ledger.post(posting("u1", -10, "d2", EntryKind.USAGE_DEBIT), NOW)
        (lot,) = await uow.lots.expired_lots(later, 10)
        await uow.ledger.post(expiry_posting(lot), later)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.audit.verify() == []
    assert (lot.idempotency_key, lot.remaining) == ("t2", 20)


async def test_a_lot_that_lost_credits_is_reported_with_what_differs(backend: Backend) -> None:
    ids = await a_busy_ledger(backend.uow)
    await backend.set_lot_remaining(ids["g1"], 60)  # 80 were left

    async with backend.uow() as uow:
        found = await uow.audit.verify()

    assert found == [LotMismatch("u1", summed=80, unspent=60)]


async def test_an_over_consumed_lot_is_reported(backend: Backend) -> None:
    ids = await a_busy_ledger(backend.uow)
    await backend.set_lot_remaining(ids["g2"], 120)  # more than it ever granted

    async with backend.uow() as uow:
        found = await uow.audit.verify()

    assert found == [LotMismatch("u2", 60, 120, (OverConsumedLot(ids["g2"], 100, 0, 120),))]


async def test_an_allocation_beyond_its_lot_is_reported_even_when_the_sums_agree(
    backend: Backend,
) -> None:
    async with backend.uow() as uow:
        await uow.ledger.open_account("u1")
        grant = await uow.ledger.post(posting("u1", 100, "g", EntryKind.COUPON), NOW)
        spend = await uow.ledger.post(posting("u1", -30, "d", EntryKind.USAGE_DEBIT), NOW)
        await uow.commit()
    assert grant is not None and spend is not None
    await backend.set_allocated(spend.id, 50)

    async with backend.uow() as uow:
        found = await uow.audit.verify()

    assert found == [LotMismatch("u1", 70, 70, (OverConsumedLot(grant.id, 100, 50, 70),))]


# ---- the command ----------------------------------------------------------------------


def run_verify(*args: str) -> int:
    """The exit code of ``creditline ledger verify ARGS``, run in-process."""
    try:
        creditline(["ledger", "verify", *args])
    except SystemExit as exited:
        return exited.code if isinstance(exited.code, int) else 1
    return 0


def test_the_command_exits_0_when_clean_and_1_naming_the_account_when_tampered(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PAYMENT_GATEWAY", "sandbox")
    ids = run_async(lambda: _in_sqlite(sqlite_url, a_busy_ledger))

    assert run_verify() == 0
    assert "every balance equals the sum of its entries" in capsys.readouterr().out
    assert run_verify("--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "ok": True,
        "mismatches": [],
        "lot_mismatches": [],
    }

    run_async(lambda: _tamper(sqlite_url, ids["g1"]))

    assert run_verify() == 1
    out = capsys.readouterr().out
    assert "MISMATCH user=u2 cached=999 summed=60" in out
    assert "LOTS user=u1 unspent=60 expected=80 summed=80" in out
    assert run_verify("--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["mismatches"] == [{"user_id": "u2", "cached": 999, "summed": 60}]
    assert report["lot_mismatches"] == [
        {
            "user_id": "u1",
            "summed": 80,
            "unspent": 60,
            "over_consumed": [],
            "expected_unspent": 80,
        }
    ]


async def _in_sqlite(
    url: str, build: Callable[[UnitOfWorkFactory], Awaitable[dict[str, int]]]
) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return await build(uow_factory(engine))
    finally:
        await engine.dispose()


async def _tamper(url: str, lot_entry_id: int) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(ledger_entries)
                .where(ledger_entries.c.id == lot_entry_id)
                .values(lot_remaining=60)
            )
            await conn.execute(
                update(accounts).where(accounts.c.user_id == "u2").values(balance=999)
            )
    finally:
        await engine.dispose()
