"""The sandbox's store contract, on memory, SQLite and PostgreSQL.

``opened()`` gives another handle on the same store, as a second process would have:
for SQL a store on an engine of its own, for memory the same store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sandbox.memory_store import MemorySandboxStore
from adapters.sandbox.records import SandboxEvent
from adapters.sandbox.sql_store import SqlSandboxStore
from adapters.sandbox.store import (
    Changes,
    SandboxConflict,
    SandboxStore,
    StoredKey,
    StoredObject,
)
from adapters.sqlalchemy.engine import make_engine

SESSION = StoredObject("cs_test_1", "checkout.session", b'{"id":"cs_test_1","status":"open"}')
INTENT = StoredObject("pi_1", "payment_intent", '{"id":"pi_1","d":"caf\u00e9"}'.encode())
KEY = StoredKey(b'CheckoutRequest:{"amount":1000}', "cs_test_1")


def event(n: int, created: int) -> SandboxEvent:
    body = f'{{"id":"evt_{n}","created":{created},"note":"\u20ac"}}'.encode()
    return SandboxEvent(f"evt_{n}", "checkout.session.completed", created, body)


@dataclass
class Backend:
    store: SandboxStore
    opened: Callable[[], SandboxStore]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        store = MemorySandboxStore()
        yield Backend(store, lambda: store)
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    engines: list[AsyncEngine] = []

    def opened() -> SandboxStore:
        engines.append(make_engine(url))
        return SqlSandboxStore(engines[-1])

    yield Backend(opened(), opened)
    for engine in engines:
        await engine.dispose()


async def write(store: SandboxStore, changes: Changes) -> None:
    async with store.transaction() as tx:
        await tx.write(changes)


async def read(store: SandboxStore, *ids: str) -> dict[str, StoredObject]:
    async with store.transaction() as tx:
        return await tx.read(ids, lock=False)


async def test_what_a_transaction_writes_is_read_back_exactly(backend: Backend) -> None:
    await write(backend.store, Changes(created=(SESSION, INTENT), keys={"checkout:p1": KEY}))
    changed = StoredObject(SESSION.id, SESSION.kind, b'{"id":"cs_test_1","status":"complete"}')
    await write(backend.store, Changes(updated=(changed,)))

    other = backend.opened()
    async with other.transaction() as tx:
        found = await tx.read(["pi_1", "cs_test_1", "cs_nope"], lock=True)
        key, missing = await tx.key("checkout:p1"), await tx.key("checkout:nope")

    assert found == {"cs_test_1": changed, "pi_1": INTENT}
    assert (key, missing) == (KEY, None)
    assert await read(other) == {}


async def test_a_transaction_that_raises_keeps_nothing(backend: Backend) -> None:
    with pytest.raises(RuntimeError):
        async with backend.store.transaction() as tx:
            await tx.write(Changes(created=(SESSION,), keys={"k": KEY}, events=(event(1, 10),)))
            raise RuntimeError("the operation failed after writing")

    assert await read(backend.store, SESSION.id) == {}
    assert await backend.store.events(0) == []
    async with backend.store.transaction() as tx:
        assert await tx.key("k") is None


@pytest.mark.parametrize(
    "again",
    [
        Changes(created=(SESSION,)),
        Changes(created=(INTENT,), keys={"checkout:p1": StoredKey(b"other", "pi_1")}),
    ],
    ids=["object", "idempotency_key"],
)
async def test_creating_what_exists_is_a_conflict_and_lands_nothing(
    backend: Backend, again: Changes
) -> None:
    await write(backend.store, Changes(created=(SESSION,), keys={"checkout:p1": KEY}))

    with pytest.raises(SandboxConflict):
        await write(backend.opened(), Changes(again.created, (), again.keys, (event(9, 1),)))

    assert await read(backend.store, SESSION.id, INTENT.id) == {SESSION.id: SESSION}
    assert await backend.store.events(0) == []


async def test_events_are_kept_in_order_byte_for_byte(backend: Backend) -> None:
    await write(backend.store, Changes(events=(event(1, 100), event(2, 50))))
    await write(backend.store, Changes(events=(event(3, 200),)))

    other = backend.opened()
    assert await other.events(0) == [event(1, 100), event(2, 50), event(3, 200)]
    assert await other.events(100) == [event(1, 100), event(3, 200)]
    assert await other.event("evt_2") == event(2, 50)
    assert await other.event("evt_nope") is None


async def test_a_second_locker_waits_for_the_first_and_sees_its_write(backend: Backend) -> None:
    await write(backend.store, Changes(created=(SESSION,)))
    first_holds, order = asyncio.Event(), []
    paid = StoredObject(SESSION.id, SESSION.kind, b'{"id":"cs_test_1","status":"complete"}')

    async def first() -> None:
        async with backend.store.transaction() as tx:
            await tx.read([SESSION.id], lock=True)
            first_holds.set()
            await asyncio.sleep(0.3)
            await tx.write(Changes(updated=(paid,)))
            order.append("first commits")

    async def second() -> StoredObject:
        await first_holds.wait()
        async with backend.opened().transaction() as tx:
            found = await tx.read([SESSION.id], lock=True)
            order.append("second reads")
            return found[SESSION.id]

    _, seen = await asyncio.gather(first(), second())

    assert order == ["first commits", "second reads"]
    assert seen == paid
