"""The sandbox's store in the service's database: one sandbox for every process on it.

Each transaction is a short one of its own on the service's engine, never a part of a
unit of work. Objects an operation will change are read ``FOR UPDATE`` in id order,
so two processes acting on one session take turns and never deadlock (SQLite has no
row locks, but every transaction there begins IMMEDIATE: one writer at a time). Two
creations racing for one idempotency key meet on its primary key: the loser's
transaction fails with ``SandboxConflict`` and is run again, to find the key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sandbox.records import SandboxEvent
from adapters.sandbox.store import Changes, SandboxConflict, StoredKey, StoredObject
from adapters.sqlalchemy.tables import sandbox_events, sandbox_idempotency_keys, sandbox_objects

_READ = select(sandbox_objects).where(sandbox_objects.c.id.in_(bindparam("ids", expanding=True)))
_LOCK = _READ.order_by(sandbox_objects.c.id).with_for_update()
_KEY = select(sandbox_idempotency_keys).where(
    sandbox_idempotency_keys.c.idempotency_key == bindparam("key")
)
_UPDATE = (
    update(sandbox_objects)
    .where(sandbox_objects.c.id == bindparam("object_id"))
    .values(body=bindparam("new_body"))
)
_EVENTS = select(sandbox_events).order_by(sandbox_events.c.seq)


class SqlSandboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqlTransaction]:
        async with self._engine.begin() as connection:
            yield _SqlTransaction(connection)

    async def events(self, created_from: int) -> list[SandboxEvent]:
        query = _EVENTS.where(sandbox_events.c.created >= created_from)
        async with self._engine.connect() as connection:
            rows = await connection.execute(query)
            return [_event(row.event_id, row.type, row.created, row.body) for row in rows]

    async def event(self, event_id: str) -> SandboxEvent | None:
        query = _EVENTS.where(sandbox_events.c.event_id == event_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _event(row.event_id, row.type, row.created, row.body)


class _SqlTransaction:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def read(self, object_ids: Collection[str], *, lock: bool) -> dict[str, StoredObject]:
        if not object_ids:
            return {}
        query = _LOCK if lock else _READ
        rows = await self._conn.execute(query, {"ids": sorted(object_ids)})
        return {row.id: StoredObject(row.id, row.kind, row.body.encode()) for row in rows}

    async def key(self, key: str) -> StoredKey | None:
        row = (await self._conn.execute(_KEY, {"key": key})).first()
        return None if row is None else StoredKey(row.request.encode(), row.object_id)

    async def write(self, changes: Changes) -> None:
        try:
            await self._insert(changes)
        except IntegrityError as exc:
            raise SandboxConflict(str(exc.orig)) from exc
        if changes.updated:
            params = [{"object_id": o.id, "new_body": o.body.decode()} for o in changes.updated]
            await self._conn.execute(_UPDATE, params)

    async def _insert(self, changes: Changes) -> None:
        if changes.created:
            rows = [{"id": o.id, "kind": o.kind, "body": o.body.decode()} for o in changes.created]
            await self._conn.execute(insert(sandbox_objects), rows)
        if changes.keys:
            keys = [
                {"idempotency_key": key, "request": k.request.decode(), "object_id": k.object_id}
                for key, k in changes.keys.items()
            ]
            await self._conn.execute(insert(sandbox_idempotency_keys), keys)
        if changes.events:
            events = [
                {"event_id": e.id, "type": e.type, "created": e.created, "body": e.body.decode()}
                for e in changes.events
            ]
            await self._conn.execute(insert(sandbox_events), events)


def _event(event_id: str, event_type: str, created: int, body: str) -> SandboxEvent:
    return SandboxEvent(event_id, event_type, created, body.encode())
