"""The outbox on SQL: ``INSERT ... ON CONFLICT DO NOTHING``, in the transaction of its change.

A second transaction recording the same fact (same event id) waits on the primary
key until the first ends, then inserts nothing: the fact is one row and neither
transaction fails for it. At commit a unit of work writes all its events in one
multi-row insert; on PostgreSQL the claimed gateway event's outcome rides along as a
data-modifying ``WITH`` (``commit_writes``), so the commit costs one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.commit_writes import SET_OUTCOME, HeldOutcome
from adapters.sqlalchemy.dialect import Insert, per_dialect
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


@cache
def _add_all(dialect: str, count: int, with_outcome: bool) -> Insert:
    """The insert of ``count`` rows, built once per shape (a transaction writes one to four)."""

    def build(insert: Any) -> Insert:
        rows = [
            {
                "event_id": bindparam(f"event_id_{i}"),
                "type": bindparam(f"type_{i}"),
                "user_id": bindparam(f"user_id_{i}"),
                "payload": bindparam(f"payload_{i}", type_=outbox.c.payload.type),
                "occurred_at": bindparam(f"occurred_at_{i}", type_=outbox.c.occurred_at.type),
            }
            for i in range(count)
        ]
        statement: Insert = insert(outbox).values(rows)
        statement = statement.on_conflict_do_nothing(index_elements=["event_id"])
        return statement.add_cte(SET_OUTCOME.cte("outcome")) if with_outcome else statement

    return per_dialect(build)[dialect]


def _row_params(events: Sequence[DomainEvent]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, event in enumerate(events):
        params[f"event_id_{i}"] = event.event_id
        params[f"type_{i}"] = event.type
        params[f"user_id_{i}"] = event.user_id
        params[f"payload_{i}"] = event.payload
        params[f"occurred_at_{i}"] = event.occurred_at
    return params


class SqlOutbox:
    """``held``: the unit of work's held outcome, written with the rows on PostgreSQL."""

    def __init__(self, connection: AsyncConnection, held: HeldOutcome | None = None) -> None:
        self._conn = connection
        self._dialect = connection.dialect.name
        self._add = _ADD[self._dialect]
        self._held = HeldOutcome() if held is None else held

    async def add(self, event: DomainEvent) -> bool:
        params = {
            "new_event_id": event.event_id,
            "new_type": event.type,
            "new_user_id": event.user_id,
            "new_payload": event.payload,
            "new_occurred_at": event.occurred_at,
        }
        return (await self._conn.execute(self._add, params)).first() is not None

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        outcome = self._held.take() if self._dialect == "postgresql" else None
        statement = _add_all(self._dialect, len(events), outcome is not None)
        await self._conn.execute(statement, _row_params(events) | (outcome or {}))

    async def pending(self, limit: int) -> Sequence[OutboxMessage]:
        rows = await self._conn.execute(_PENDING, {"limit": limit})
        return [_message(row) for row in rows]


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        event_id=row.event_id,
        type=row.type,
        user_id=row.user_id,
        payload=row.payload,
        occurred_at=row.occurred_at,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
    )
