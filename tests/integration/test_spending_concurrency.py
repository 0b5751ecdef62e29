"""Spending under concurrency: only the database decides (docs/failure-modes.md #4, 5).

Debits and captures never take the available balance below zero, whatever runs at
once; a key sent many times at once is one debit with one answer. Run on SQLite
(writers queue on ``BEGIN IMMEDIATE``) and PostgreSQL (row locks).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.tables import ledger_entries, spend_requests
from adapters.sqlalchemy.uow import uow_factory
from application.batch import NoControl
from application.queries import verify_ledger
from application.spending.capture_hold import capture_hold
from application.spending.debit import debit
from application.spending.debit_batch import debit_batch
from application.spending.expire_holds import expire_holds
from application.spending.place_hold import place_hold
from application.spending.release_hold import release_hold
from application.spending.spend import DebitResult
from domain.errors import DomainError, HoldExpired, HoldNotActive, InsufficientCredits
from domain.ledger import purchase_posting
from domain.spending import Debit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _user(engine: AsyncEngine, user_id: str, credits: int) -> None:
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account(user_id)
        await uow.ledger.post(purchase_posting(user_id, f"seed_{user_id}", credits), NOW)
        await uow.commit()


async def _account(engine: AsyncEngine, user_id: str):  # type: ignore[no-untyped-def]
    async with uow_factory(engine)() as uow:
        return await uow.ledger.account(user_id)


async def _clean(engine: AsyncEngine) -> None:
    assert await verify_ledger(uow_factory=uow_factory(engine)) == []


async def test_64_debits_of_10_against_500_exactly_50_succeed(engine: AsyncEngine) -> None:
    await _user(engine, "u1", 500)
    factory, clock = uow_factory(engine), FixedClock(NOW)

    async def one(i: int) -> DebitResult | DomainError:
        try:
            return await debit(Debit("u1", 10, f"k{i}"), uow_factory=factory, clock=clock)
        except InsufficientCredits as exc:
            return exc

    results = await asyncio.gather(*(one(i) for i in range(64)))
    taken = [r for r in results if isinstance(r, DebitResult)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(taken), len(refused)) == (50, 14)
    assert all(r.available == 0 for r in refused)
    account = await _account(engine, "u1")
    assert (account.balance, account.held) == (0, 0)
    assert sorted(r.balance for r in taken) == list(range(0, 500, 10))
    await _clean(engine)


async def test_one_key_sent_20_times_at_once_is_one_debit_with_one_answer(
    engine: AsyncEngine,
) -> None:
    await _user(engine, "u1", 500)
    factory, clock = uow_factory(engine), FixedClock(NOW)
    request = Debit("u1", 7, "same", description="one call")
    results = await asyncio.gather(
        *(debit(request, uow_factory=factory, clock=clock) for _ in range(20))
    )
    assert len(set(results)) == 1
    assert results[0].balance == 493
    async with engine.connect() as conn:
        debits = select(func.count()).where(ledger_entries.c.kind == "usage_debit")
        assert (await conn.execute(debits)).scalar_one() == 1
        assert (
            await conn.execute(select(func.count()).select_from(spend_requests))
        ).scalar_one() == 1


async def test_a_batch_with_refused_items_applies_the_others(engine: AsyncEngine) -> None:
    await _user(engine, "a", 100)
    await _user(engine, "b", 30)
    items = [
        Debit("a", 60, "a1"),
        Debit("b", 40, "b1"),  # refused: b has 30
        Debit("a", 50, "a2"),  # refused: a has 40 left
        Debit("b", 30, "b2"),
        Debit("a", 40, "a3"),
        Debit("nobody", 1, "n1"),
    ]
    results = await debit_batch(items, uow_factory=uow_factory(engine), clock=FixedClock(NOW))
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "DebitResult",
        "InsufficientCredits",
        "InsufficientCredits",
        "DebitResult",
        "DebitResult",
        "NotFound",
    ]
    assert [r.balance for r in results if isinstance(r, DebitResult)] == [40, 0, 0]
    assert (await _account(engine, "a")).balance == 0
    assert (await _account(engine, "b")).balance == 0
    again = await debit_batch(items[:2], uow_factory=uow_factory(engine), clock=FixedClock(NOW))
    assert again[0] == results[0] and isinstance(again[1], InsufficientCredits)
    await _clean(engine)


@pytest.mark.parametrize("rounds", [5])
async def test_capture_racing_release_and_a_second_capture_ends_the_hold_once(
    engine: AsyncEngine, rounds: int
) -> None:
    await _user(engine, "u1", 1000)
    factory, clock = uow_factory(engine), FixedClock(NOW)
    for i in range(rounds):
        hold = await place_hold("u1", 100, f"h{i}", 60, uow_factory=factory, clock=clock)

        async def attempt(op):  # type: ignore[no-untyped-def]
            try:
                return await op
            except HoldNotActive as exc:
                return exc

        outcomes = await asyncio.gather(
            attempt(capture_hold(hold.id, 60, uow_factory=factory, clock=clock)),
            attempt(release_hold(hold.id, uow_factory=factory, clock=clock)),
            attempt(capture_hold(hold.id, 30, uow_factory=factory, clock=clock)),
        )
        assert sum(not isinstance(o, HoldNotActive) for o in outcomes) == 1
    account = await _account(engine, "u1")
    assert account.held == 0
    await _clean(engine)


async def test_capture_racing_expiry_and_holds_past_expiry_stop_holding(
    engine: AsyncEngine,
) -> None:
    await _user(engine, "u1", 100)
    factory = uow_factory(engine)
    first = await place_hold("u1", 80, "h1", 10, uow_factory=factory, clock=FixedClock(NOW))
    with pytest.raises(InsufficientCredits):
        await debit(Debit("u1", 30, "before"), uow_factory=factory, clock=FixedClock(NOW))
    later = FixedClock(NOW + timedelta(seconds=10))

    async def capture(hold_id: str) -> object:
        try:
            return await capture_hold(hold_id, 10, uow_factory=factory, clock=later)
        except (HoldExpired, HoldNotActive) as exc:
            return exc

    _, outcome = await asyncio.gather(
        expire_holds(uow_factory=factory, clock=later, batch_size=10, control=NoControl()),
        capture(first.id),
    )
    assert isinstance(outcome, HoldExpired | HoldNotActive)
    assert (await _account(engine, "u1")).held == 0
    # Past its expiry a hold holds nothing, before anything has marked it.
    await place_hold("u1", 80, "h2", 10, uow_factory=factory, clock=later)
    even_later = FixedClock(NOW + timedelta(seconds=20))
    assert (
        await debit(Debit("u1", 30, "d"), uow_factory=factory, clock=even_later)
    ).available == 70
    account = await _account(engine, "u1")
    assert (account.balance, account.held) == (70, 0)
    await _clean(engine)
