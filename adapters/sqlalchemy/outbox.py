"""The outbox on SQL: ``INSERT ... ON CONFLICT DO NOTHING``, in the transaction of its change.

A second transaction recording the same fact (same event id) waits on the primary
key until the first ends, then inserts nothing: the fact is one row and neither
transaction fails for it. At commit a unit of work writes all its events: on
PostgreSQL in one ``INSERT ... SELECT unnest(...)``, with the claimed gateway event's
outcome riding along as a data-modifying ``WITH`` (``commit_writes``), so the commit
costs one statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import ARRAY, DateTime, Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.commit_writes import SET_OUTCOME, HeldOutcome
from adapters.sqlalchemy.dialect import per_dialect
from adapters.sqlalchemy.outbox_delivery import OutboxDelivery, message_of
from adapters.sqlalchemy.tables import outbox
from application.outbox import DeliveryStatus, OutboxMessage
from domain.events import DomainEvent

_ADD = per_dialect(
    lambda insert: (
        insert(outbox)
        .values(
            event_id=bindparam("new_event_id"),
            type=bindparam("new_type"),
            user_id=bindparam("new_user_id"),
            payload=bindparam("new_payload", type_=outbox.c.payload.type),
            occurred_at=bindparam("new_occurred_at", type_=outbox.c.occurred_at.type),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(outbox.c.event_id)
    )
)
_PENDING = (
    select(outbox)
    .where(outbox.c.status == DeliveryStatus.PENDING.value)
    .order_by(outbox.c.occurred_at, outbox.c.event_id)
    .limit(bindparam("limit"))
)


# PostgreSQL: the rows as arrays, one statement whatever their number, compiled once
# (a multi-row VALUES has no cache key, so SQLAlchemy would compile it on every commit).
_ROWS = select(
    func.unnest(bindparam("event_ids", type_=ARRAY(Text))),
    func.unnest(bindparam("types", type_=ARRAY(Text))),
    func.unnest(bindparam("user_ids", type_=ARRAY(Text))),
    cast(func.unnest(bindparam("payloads", type_=ARRAY(Text))), postgresql.JSON),
    func.unnest(bindparam("occurred_ats", type_=ARRAY(DateTime(timezone=True)))),
)
_ADD_ALL = (
    postgresql.insert(outbox)
    .from_select(["event_id", "type", "user_id", "payload", "occurred_at"], _ROWS)
    .on_conflict_do_nothing(index_elements=["event_id"])
)
_ADD_ALL_WITH_OUTCOME = _ADD_ALL.add_cte(SET_OUTCOME.cte("outcome"))


def _arrays(events: Sequence[DomainEvent]) -> dict[str, Any]:
    return {
        "event_ids": [e.event_id for e in events],
        "types": [e.type for e in events],
        "user_ids": [e.user_id for e in events],
        "payloads": [json.dumps(e.payload) for e in events],
        "occurred_ats": [e.occurred_at.astimezone(UTC) for e in events],
    }


class SqlOutbox(OutboxDelivery):
    """``held``: the unit of work's held outcome, written with the rows on PostgreSQL."""

    def __init__(self, connection: AsyncConnection, held: HeldOutcome | None = None) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name
        self._add = _ADD[self._dialect]
        self._held = HeldOutcome() if held is None else held

    async def add(self, event: DomainEvent) -> bool:
        return (await self._conn.execute(self._add, _params(event))).first() is not None

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        if self._dialect != "postgresql":  # SQLAlchemy sends the rows as one multi-row INSERT
            await self._conn.execute(self._add, [_params(event) for event in events])
            return
        outcome = self._held.take()
        statement = _ADD_ALL if outcome is None else _ADD_ALL_WITH_OUTCOME
        await self._conn.execute(statement, _arrays(events) | (outcome or {}))

    async def pending(self, limit: int) -> Sequence[OutboxMessage]:
        rows = await self._conn.execute(_PENDING, {"limit": limit})
        return [message_of(row) for row in rows]


def _params(event: DomainEvent) -> dict[str, Any]:
    return {
        "new_event_id": event.event_id,
        "new_type": event.type,
        "new_user_id": event.user_id,
        "new_payload": event.payload,
        "new_occurred_at": event.occurred_at,
    }
