"""The round trips of the hot reads, pinned on PostgreSQL: a balance read (with its
runway), a page of history and a key check are one statement each, with no ``BEGIN`` or
``ROLLBACK`` around them (the read-only unit of work is in autocommit)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import read_uow_factory, uow_factory
from application.accounts.users import authenticate, create_user
from application.queries import list_entries
from application.spending.balance import get_own_balance
from domain.errors import Unauthenticated
from domain.ledger import EntryKind, Posting, purchase_posting

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


@pytest.fixture
async def pg_engine(empty_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_pg_url)

    @event.listens_for(engine.sync_engine, "connect")
    def log_simple_queries(dbapi_connection: Any, _record: Any) -> None:
        # asyncpg's query loggers see BEGIN/COMMIT/ROLLBACK (sent as simple queries)
        dbapi_connection._connection.add_query_logger(
            lambda record: engine.sync_engine.dispatch_log.append(record.query)  # type: ignore[attr-defined]
        )

    engine.sync_engine.dispatch_log = []  # type: ignore[attr-defined]
    yield engine
    await engine.dispose()


@contextmanager
def round_trips(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement's first word, and the transaction commands asyncpg sent."""
    sent: list[str] = []
    log: list[str] = engine.sync_engine.dispatch_log  # type: ignore[attr-defined]
    log.clear()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        sent.extend(query.split()[0].rstrip(";").upper() for query in log)


async def _user_who_spent(engine: AsyncEngine) -> str:
    user = (
        await create_user("r@example.com", uow_factory=uow_factory(engine), clock=FixedClock(NOW))
    ).user
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account(user.id)
        await uow.ledger.post(purchase_posting(user.id, "pay_1", 1000), NOW - timedelta(days=9))
        for day, credits in ((8, 500), (3, 70), (1, 70)):  # the first is outside the window
            debit = Posting(
                user.id, -credits, EntryKind.USAGE_DEBIT, "req", f"r{day}", f"use:r{day}"
            )
            await uow.ledger.post(debit, NOW - timedelta(days=day))
        await uow.commit()
    return user.id


async def test_a_balance_read_with_its_runway_is_one_statement(pg_engine: AsyncEngine) -> None:
    user_id = await _user_who_spent(pg_engine)
    # warm the pool: a connection's first checkout asks the server about itself
    await get_own_balance(user_id, uow_factory=read_uow_factory(pg_engine), clock=FixedClock(NOW))
    with round_trips(pg_engine) as sent:
        view = await get_own_balance(
            user_id, uow_factory=read_uow_factory(pg_engine), clock=FixedClock(NOW)
        )
    assert sent == ["SELECT"]
    assert view.account.balance == 1000 - 500 - 70 - 70
    # 140 credits spent in the last seven days: 20 a day, 360 left -> 18 days
    assert view.runway_days == Decimal(18)


async def test_a_page_of_history_is_one_statement(pg_engine: AsyncEngine) -> None:
    user_id = await _user_who_spent(pg_engine)
    await list_entries(user_id, 2, None, uow_factory=read_uow_factory(pg_engine))
    with round_trips(pg_engine) as sent:
        page = await list_entries(user_id, 2, None, uow_factory=read_uow_factory(pg_engine))
    assert sent == ["SELECT"]
    assert [entry.credits for entry in page.items] == [-70, -70]


async def test_a_read_only_unit_of_work_refuses_to_commit(pg_engine: AsyncEngine) -> None:
    async with read_uow_factory(pg_engine)() as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


async def test_a_write_after_a_read_begins_its_own_transaction(pg_engine: AsyncEngine) -> None:
    """The pooled connection a read used in autocommit is back in transactions after."""
    user_id = await _user_who_spent(pg_engine)
    await get_own_balance(user_id, uow_factory=read_uow_factory(pg_engine), clock=FixedClock(NOW))
    async with uow_factory(pg_engine)() as uow:
        await uow.ledger.post(purchase_posting(user_id, "pay_2", 5), NOW)
        # not committed: leaving the block rolls the grant back
    async with read_uow_factory(pg_engine)() as uow:
        account = await uow.ledger.account(user_id)
    assert account is not None and account.balance == 360


async def test_checking_a_key_is_one_statement(pg_engine: AsyncEngine) -> None:
    created = await create_user(
        "k@example.com", uow_factory=uow_factory(pg_engine), clock=FixedClock(NOW)
    )
    check = read_uow_factory(pg_engine)
    await authenticate(created.api_key, admin_key_hashes=(), uow_factory=check)
    with round_trips(pg_engine) as sent:
        principal = await authenticate(created.api_key, admin_key_hashes=(), uow_factory=check)
    assert sent == ["SELECT"]
    assert principal.user == created.user and not principal.is_admin
    with pytest.raises(Unauthenticated):
        await authenticate(created.api_key + "x", admin_key_hashes=(), uow_factory=check)
