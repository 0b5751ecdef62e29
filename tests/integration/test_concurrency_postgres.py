"""Concurrent writers, each in its own unit of work, as concurrent webhooks arrive.

Only the database decides (docs/failure-modes.md #4, 5): the unique index on idempotency keys and
event ids, and the atomic ``UPDATE ... RETURNING`` on the account row. Written for
PostgreSQL, and run on a SQLite file too, where ``BEGIN IMMEDIATE`` must make the
writers queue instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.tables import ledger_entries, processed_events
from adapters.sqlalchemy.uow import uow_factory
from application.webhooks.events import GatewayEvent
from domain.errors import InsufficientCredits
from domain.ledger import EntryKind, LedgerEntry, Posting, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _open(engine: AsyncEngine, user_id: str, credits: int = 0) -> None:
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account(user_id)
        if credits:
            await uow.ledger.post(purchase_posting(user_id, "seed", credits), NOW)
        await uow.commit()


async def _post(engine: AsyncEngine, posting: Posting) -> LedgerEntry | None:
    async with uow_factory(engine)() as uow:
        entry = await uow.ledger.post(posting, NOW)
        await asyncio.sleep(0.005)  # hold the transaction open while others pile up
        await uow.commit()
    return entry


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        count: int = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
    return count


async def _balance(engine: AsyncEngine, user_id: str) -> int:
    async with uow_factory(engine)() as uow:
        account = await uow.ledger.account(user_id)
    assert account is not None
    return account.balance


async def test_same_key_posted_twenty_times_at_once_moves_the_balance_once(
    engine: AsyncEngine,
) -> None:
    await _open(engine, "u1")
    posting = purchase_posting("u1", "pay_1", 1000)
    entries = await asyncio.gather(*(_post(engine, posting) for _ in range(20)))
    assert sum(entry is not None for entry in entries) == 1
    assert await _balance(engine, "u1") == 1000
    assert await _count(engine, ledger_entries) == 1


async def test_fifty_different_keys_at_once_all_land(engine: AsyncEngine) -> None:
    await _open(engine, "u1")
    postings = [purchase_posting("u1", f"pay_{n}", n + 1) for n in range(50)]
    entries = await asyncio.gather(*(_post(engine, posting) for posting in postings))
    assert all(entry is not None for entry in entries)
    assert await _balance(engine, "u1") == sum(range(1, 51))
    async with uow_factory(engine)() as uow:
        assert await uow.audit.verify() == []


async def test_concurrent_debits_never_overdraw(engine: AsyncEngine) -> None:
    await _open(engine, "u1", credits=100)

    async def spend(n: int) -> bool:
        try:
            await _post(engine, Posting("u1", -30, EntryKind.USAGE_DEBIT, "req", f"r{n}", f"d{n}"))
        except InsufficientCredits:
            return False
        return True

    spent = await asyncio.gather(*(spend(n) for n in range(20)))
    assert sum(spent) == 3
    assert await _balance(engine, "u1") == 10


async def test_an_event_delivered_twenty_times_at_once_is_claimed_once(
    engine: AsyncEngine,
) -> None:
    event = GatewayEvent(event_id="evt_1", type="checkout.session.completed")

    async def deliver() -> bool:
        async with uow_factory(engine)() as uow:
            claimed = await uow.events.claim(event, NOW)
            await asyncio.sleep(0.005)
            await uow.commit()
        return claimed

    claims = await asyncio.gather(*(deliver() for _ in range(20)))
    assert sum(claims) == 1
    assert await _count(engine, processed_events) == 1


async def test_read_then_write_under_for_update_loses_no_update(engine: AsyncEngine) -> None:
    """The use cases' pattern: lock the payment, change it, save. No lost update, no
    "database is locked" from two SQLite readers upgrading to writers."""
    payment = Payment(
        "p1", "u1", PaymentKind.CHECKOUT, 1000, "usd", 1000, PaymentStatus.COMPLETED, NOW
    )
    async with uow_factory(engine)() as uow:
        await uow.payments.add(payment)
        await uow.commit()

    async def refund_one_cent() -> None:
        async with uow_factory(engine)() as uow:
            current = await uow.payments.get("p1", for_update=True)
            assert current is not None
            await asyncio.sleep(0.005)
            current.amount_refunded += 1
            await uow.payments.save(current)
            await uow.commit()

    await asyncio.gather(*(refund_one_cent() for _ in range(20)))
    async with uow_factory(engine)() as uow:
        final = await uow.payments.get("p1")
    assert final is not None and final.amount_refunded == 20
