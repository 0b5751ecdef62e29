"""The outbox on SQL: an ``INSERT ... ON CONFLICT DO NOTHING`` per event, in the
transaction of its change.

A second transaction recording the same fact (same event id) waits on the primary
key until the first ends, then inserts nothing: the fact is one row and neither
transaction fails for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

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


class SqlOutbox(OutboxDelivery):
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._add = _ADD[connection.dialect.name]

    async def add(self, event: DomainEvent) -> bool:
        return (await self._conn.execute(self._add, _params(event))).first() is not None

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        """One round trip: SQLAlchemy sends the rows as one multi-row INSERT."""
        if len(events) == 1:
            await self.add(events[0])
        elif events:
            await self._conn.execute(self._add, [_params(event) for event in events])

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
