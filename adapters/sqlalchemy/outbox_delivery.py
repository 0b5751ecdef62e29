"""The outbox's delivery columns on SQL: the lease, each attempt's outcome, the admin list.

``claim_due`` is one ``UPDATE ... WHERE event_id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING``: rows another worker is claiming right now are skipped rather than waited
for, and rows it leased earlier no longer match, so workers get disjoint batches. On
SQLite the clause is dropped: ``BEGIN IMMEDIATE`` already runs claims in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, or_, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from adapters.sqlalchemy.tables import outbox
from application.outbox import DeliveryOutcome, DeliveryStatus, OutboxFilter, OutboxMessage
from application.ports import Page

_AT = outbox.c.occurred_at.type
_SETTLE = (
    update(outbox)
    .where(outbox.c.event_id == bindparam("settled_id"))
    .values(
        status=bindparam("settled_status"),
        attempts=outbox.c.attempts + 1,
        last_status=bindparam("settled_last_status"),
        last_error=bindparam("settled_last_error"),
        next_attempt_at=bindparam("settled_next", type_=_AT),
        first_attempt_at=func.coalesce(
            outbox.c.first_attempt_at, bindparam("settled_at", type_=_AT)
        ),
        delivered_at=bindparam("settled_delivered_at", type_=_AT),
        leased_until=None,
    )
)


class OutboxDelivery:
    """Mixed into ``SqlOutbox``: the delivery side of the same table."""

    _conn: AsyncConnection

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        due = and_(
            outbox.c.status == DeliveryStatus.PENDING.value,
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            or_(outbox.c.leased_until.is_(None), outbox.c.leased_until <= now),
        )
        candidates = (
            select(outbox.c.event_id)
            .where(due)
            .order_by(outbox.c.occurred_at, outbox.c.event_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(outbox)
            .where(outbox.c.event_id.in_(candidates.scalar_subquery()))
            .values(leased_until=lease_until)
            .returning(*outbox.columns)
        )
        rows = (await self._conn.execute(statement)).all()
        return sorted(map(message_of, rows), key=lambda m: (m.occurred_at, m.event_id))

    async def settle(self, outcomes: Sequence[DeliveryOutcome]) -> None:
        if outcomes:
            await self._conn.execute(_SETTLE, [_settled(o) for o in outcomes])

    async def find(self, event_id: str) -> OutboxMessage | None:
        row = (
            await self._conn.execute(select(outbox).where(outbox.c.event_id == event_id))
        ).first()
        return None if row is None else message_of(row)

    async def list(
        self, where: OutboxFilter, limit: int, cursor: str | None
    ) -> Page[OutboxMessage]:
        """Newest first, keyset on (occurred_at, event_id): the cursor is the last row's pair."""
        check_limit(limit)
        key = tuple_(outbox.c.occurred_at, outbox.c.event_id)
        statement = (
            select(outbox)
            .where(_filter(where))
            .order_by(outbox.c.occurred_at.desc(), outbox.c.event_id.desc())
            .limit(limit + 1)
        )
        if cursor is not None:
            statement = statement.where(key < decode_time_and_id(cursor))
        found = [message_of(row) for row in (await self._conn.execute(statement)).all()]
        if len(found) <= limit:
            return Page(found, None)
        last = found[limit - 1]
        return Page(found[:limit], encode_cursor(last.occurred_at.isoformat(), last.event_id))

    async def requeue(self, event_id: str, now: datetime) -> OutboxMessage | None:
        statement = (
            update(outbox)
            .where(outbox.c.event_id == event_id)
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                first_attempt_at=None,
                delivered_at=None,
            )
            .returning(*outbox.columns)
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else message_of(row)


def _filter(where: OutboxFilter) -> Any:
    conditions: list[Any] = [true()]
    if where.status is not None:
        conditions.append(outbox.c.status == where.status.value)
    if where.types is not None:
        conditions.append(outbox.c.type.in_(where.types))
    if where.user_id is not None:
        conditions.append(outbox.c.user_id == where.user_id)
    return and_(*conditions)


def _settled(outcome: DeliveryOutcome) -> dict[str, Any]:
    delivered = outcome.status is DeliveryStatus.DELIVERED
    return {
        "settled_id": outcome.event_id,
        "settled_status": outcome.status.value,
        "settled_last_status": outcome.last_status,
        "settled_last_error": outcome.last_error,
        "settled_next": outcome.next_attempt_at,
        "settled_at": outcome.attempted_at,
        "settled_delivered_at": outcome.attempted_at if delivered else None,
    }


def message_of(row: Row[Any]) -> OutboxMessage:
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
        last_error=row.last_error,
        first_attempt_at=row.first_attempt_at,
        delivered_at=row.delivered_at,
        leased_until=row.leased_until,
    )
