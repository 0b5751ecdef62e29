"""Every hot query uses an index and reads a bounded number of rows, at a size where the
planner chooses honestly: 100,000 ledger entries over 2,000 users, 50,000 payments (a few
hundred still open), 100,000 processed events and 50,000 outbox rows (most delivered),
generated in SQL and analysed. The statements are the adapters' own, captured as they run;
each plan (``EXPLAIN``, not run) must name the index and have no sequential scan.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork, uow_factory
from application.webhooks.events import Unhandled
from tests.conftest import run_async

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FILL = [
    "INSERT INTO accounts (user_id, balance, held) "
    "SELECT 'u' || j, 5000, 0 FROM generate_series(0, 1999) j",
    "INSERT INTO ledger_entries (user_id, credits, kind, reference_type, reference_id, "
    "idempotency_key, balance_after, created_at, expires_at, lot_remaining) "
    "SELECT 'u' || (i % 2000), 100, 'coupon', 'coupon', 'c', 'k' || i, 100, "
    "timestamptz '2026-01-01' + i * interval '1 minute', "
    "CASE WHEN i % 10 = 0 THEN timestamptz '2026-07-01' END, CASE WHEN i % 20 = 0 THEN 100 END "
    "FROM generate_series(0, 99999) i",
    "INSERT INTO payments (id, user_id, kind, amount, currency, credits, status, created_at, "
    "expires_at, stripe_payment_intent_id) "
    "SELECT 'pay_' || i, 'u' || (i % 2000), "
    "CASE WHEN i % 2 = 0 THEN 'checkout' ELSE 'payment_intent' END, 1000, 'usd', 1000, "
    "CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'completed' END, "
    "timestamptz '2026-01-01' + i * interval '1 minute', "
    "timestamptz '2026-01-01' + i * interval '1 minute' + interval '1 day', 'pi_' || i "
    "FROM generate_series(0, 49999) i",
    "INSERT INTO processed_events (event_id, type, received_at, outcome) "
    "SELECT 'evt_' || i, 'payment_intent.succeeded', timestamptz '2026-01-01', 'granted' "
    "FROM generate_series(0, 99999) i",
    "INSERT INTO outbox (event_id, type, user_id, payload, occurred_at, status) "
    "SELECT 'o' || i, 'credits.granted', 'u' || (i % 2000), '{}', "
    "timestamptz '2026-01-01' + i * interval '1 second', "
    "CASE WHEN i % 500 = 0 THEN 'pending' ELSE 'delivered' END FROM generate_series(0, 49999) i",
    "ANALYZE",
]


async def _fill(url: str) -> None:
    await upgrade(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in FILL[:-1]:
                await conn.execute(text(statement))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(FILL[-1]))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def big_url(new_pg_database: Callable[[], str]) -> str:
    url = new_pg_database()
    run_async(lambda: _fill(url))
    return url


@pytest.fixture
async def big(big_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(big_url)
    yield engine
    await engine.dispose()


async def plan_of(
    engine: AsyncEngine, call: Callable[[SqlAlchemyUnitOfWork], Awaitable[Any]]
) -> str:
    """The plan of the first statement ``call`` sends, as JSON text (not executed)."""
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uow_factory(engine)() as uow:
            await call(uow)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    statement, parameters = sent[0]
    async with engine.connect() as conn:
        raw = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        plan = raw.scalar_one()
        await conn.rollback()
    return json.dumps(plan if not isinstance(plan, str) else json.loads(plan))


def assert_indexed(plan: str, *indexes: str) -> None:
    """One of ``indexes`` serves the query, and no table is read whole."""
    assert any(index in plan for index in indexes), plan
    assert "Seq Scan" not in plan, plan


async def test_balance_is_one_primary_key_lookup(big: AsyncEngine) -> None:
    plan = await plan_of(big, lambda uow: uow.ledger.account("u7"))
    assert_indexed(plan, "pk_accounts")


async def test_history_pages_by_keyset(big: AsyncEngine) -> None:
    first = await plan_of(big, lambda uow: uow.ledger.entries("u7", 20, None))
    assert_indexed(first, "ix_ledger_entries_user_id_id")
    assert '"Node Type": "Limit"' in first
    async with uow_factory(big)() as uow:
        cursor = (await uow.ledger.entries("u7", 20, None)).next_cursor
    later = await plan_of(big, lambda uow: uow.ledger.entries("u7", 20, cursor))
    assert_indexed(later, "ix_ledger_entries_user_id_id")


async def test_an_event_is_deduplicated_by_its_primary_key(big: AsyncEngine) -> None:
    claim = Unhandled(event_id="evt_5", type="customer.created")
    plan = await plan_of(big, lambda uow: uow.events.claim(claim, NOW))
    assert '"Conflict Arbiter Indexes": ["pk_processed_events"]' in plan


async def test_the_sweep_reads_open_payments_by_the_status_index(big: AsyncEngine) -> None:
    plan = await plan_of(
        big,
        lambda uow: uow.payments.claim_stale(NOW, NOW - timedelta(days=1), NOW, 100),
    )
    assert_indexed(plan, "ix_payments_status_expires_at")
    assert '"Index Cond": "((status)::text = ANY (' in plan  # the open rows only


async def test_expiry_reads_expiring_lots_by_their_partial_index(big: AsyncEngine) -> None:
    plan = await plan_of(big, lambda uow: uow.lots.expired_lots(NOW, 100))
    assert_indexed(plan, "ix_ledger_entries_expires_at_id")


async def test_delivery_reads_pending_outbox_rows_by_their_partial_index(big: AsyncEngine) -> None:
    plan = await plan_of(big, lambda uow: uow.outbox.pending(100))
    # The partial index on pending rows, or the deliverer's (status, occurred_at) index:
    # both read only pending rows, in order.
    assert_indexed(plan, "ix_outbox_occurred_at_event_id", "ix_outbox_status_occurred_at_event_id")
