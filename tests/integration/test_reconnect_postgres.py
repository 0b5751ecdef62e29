"""After PostgreSQL drops the pooled connections, the next transactions still succeed.

A restart, a failover or killed backends leave the pool full of dead connections;
there is no pre-ping (it costs three round trips per transaction). A transaction whose
first statement fails on such a connection has sent nothing that can count, so it is
run again once on a fresh connection: clients see an outage only while it lasts. A
disconnect after the first statement is not retried: the transaction is lost and the
caller must see it (a 503 over HTTP).

Each test kills every backend of its own database, from a separate connection.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock, SystemClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.uow import uow_factory
from application.accounts.users import create_user
from application.spending.balance import get_own_balance
from tests.conftest import run_async
from tests.unit.conftest import T0

pytestmark = pytest.mark.postgres

POOL_SIZE = 5
OTHER_BACKENDS = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
KILL_OTHER_BACKENDS = f"SELECT pg_terminate_backend(pid) FROM ({OTHER_BACKENDS}) AS others"


@pytest.fixture(scope="module")
def own_database(new_pg_database: Callable[[], str]) -> str:
    """A database of this module alone: killing its backends disturbs no other test."""
    url = new_pg_database()
    run_async(lambda: upgrade(url))
    return url


@pytest.fixture
async def engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(own_database, pool_size=POOL_SIZE, max_overflow=0)
    yield engine
    await engine.dispose()


async def kill_other_backends(url: str) -> int:
    """Terminate every other backend of the database and wait until they are gone."""
    killer = make_engine(url, poolclass=pool.NullPool)
    try:
        async with killer.connect() as conn:
            killed = len((await conn.execute(text(KILL_OTHER_BACKENDS))).all())
            for _ in range(200):
                await conn.commit()  # pg_stat_activity is read once per transaction
                if not (await conn.execute(text(OTHER_BACKENDS))).all():
                    break
                await asyncio.sleep(0.01)
        return killed
    finally:
        await killer.dispose()


async def fill_pool(engine: AsyncEngine) -> None:
    """Open every connection of the pool at once, then give them all back."""
    held = asyncio.Barrier(POOL_SIZE)

    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await held.wait()

    await asyncio.gather(*(hold() for _ in range(POOL_SIZE)))
    assert engine.pool.checkedin() == POOL_SIZE  # type: ignore[attr-defined]


async def new_user(engine: AsyncEngine) -> str:
    created = await create_user(
        f"reconnect-{uuid.uuid4().hex[:12]}@example.com",
        uow_factory=uow_factory(engine),
        clock=FixedClock(T0),
    )
    return created.user.id


async def test_every_unit_of_work_succeeds_first_time_when_each_pooled_connection_died(
    engine: AsyncEngine, own_database: str
) -> None:
    user_id = await new_user(engine)
    await fill_pool(engine)
    assert await kill_other_backends(own_database) == POOL_SIZE

    # As many at once as there are dead connections: each picks one up.
    clock = SystemClock()
    reads = [
        get_own_balance(user_id, uow_factory=uow_factory(engine), clock=clock)
        for _ in range(POOL_SIZE)
    ]
    accounts = [view.account for view in await asyncio.gather(*reads)]

    assert [a.balance for a in accounts] == [0] * POOL_SIZE


async def test_a_write_whose_first_statement_met_a_dead_connection_is_applied_once(
    engine: AsyncEngine, own_database: str
) -> None:
    await fill_pool(engine)
    await kill_other_backends(own_database)

    user_ids = await asyncio.gather(*(new_user(engine) for _ in range(POOL_SIZE)))

    async with engine.connect() as conn:
        count = "SELECT count(*) FROM users WHERE id = ANY(:ids)"
        assert (await conn.execute(text(count), {"ids": user_ids})).scalar_one() == POOL_SIZE


async def test_a_plain_connection_recovers_too(engine: AsyncEngine, own_database: str) -> None:
    """What ``/ready`` does: a connection, one statement, no unit of work."""
    await fill_pool(engine)
    await kill_other_backends(own_database)

    for _ in range(POOL_SIZE):
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


async def test_a_disconnect_after_the_first_statement_is_not_retried(
    engine: AsyncEngine, own_database: str
) -> None:
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account("usr_before_the_kill")
        await kill_other_backends(own_database)
        with pytest.raises(DBAPIError) as raised:
            await uow.ledger.open_account("usr_after_the_kill")
        assert raised.value.connection_invalidated

    async with uow_factory(engine)() as uow:
        assert await uow.ledger.account("usr_before_the_kill") is None
        assert await uow.ledger.account("usr_after_the_kill") is None
