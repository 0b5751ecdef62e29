"""Processed gateway events and applied refunds: claimed by a unique key, on SQL.

``claim`` is an ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent delivery of the
same event blocks on the unique index until the first transaction ends, then either
inserts (the first rolled back) or sees the row (the first committed). That, and
sharing the transaction with the event's effects, makes delivery exactly-once
(docs/failure-modes.md #2 and 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.commit_writes import HeldOutcome
from adapters.sqlalchemy.dialect import insert_for, per_dialect
from adapters.sqlalchemy.refund_attempts import SqlRefundAttempts
from adapters.sqlalchemy.tables import processed_events, refunds
from application.ports import RecordedRefund
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent

_RECORDED = (
    refunds.c.refund_id,
    refunds.c.payment_id,
    refunds.c.amount,
    refunds.c.status,
    refunds.c.credits_reversed,
)


_CLAIM = per_dialect(
    lambda insert: (
        insert(processed_events)
        .values(
            event_id=bindparam("new_event_id"),
            type=bindparam("new_type"),
            received_at=bindparam("new_received_at"),
            livemode=bindparam("new_livemode"),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(processed_events.c.event_id)
    )
)


class SqlEventLog:
    """``held``: the unit of work's, which writes the outcome at commit (``commit_writes``)."""

    def __init__(self, connection: AsyncConnection, held: HeldOutcome) -> None:
        self._conn = connection
        self._insert = insert_for(connection)
        self._claim = _CLAIM[connection.dialect.name]
        self._held = held

    async def claim(self, event: GatewayEvent, received_at: datetime) -> bool:
        params = {
            "new_event_id": event.event_id,
            "new_type": event.type,
            "new_received_at": received_at,
            "new_livemode": event.livemode,
        }
        return (await self._conn.execute(self._claim, params)).first() is not None

    async def set_outcome(self, event_id: str, outcome: str, detail: str | None) -> None:
        await self._held.flush(self._conn)  # one held at a time: an earlier event's goes now
        self._held.hold(event_id, str(outcome), detail)


class SqlRefundLog(SqlRefundAttempts):
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def add(
        self,
        refund: GatewayRefund,
        payment_id: str,
        user_id: str,
        credits_reversed: int,
        now: datetime,
    ) -> bool:
        statement = (
            self._insert(refunds)
            .values(
                refund_id=refund.refund_id,
                payment_id=payment_id,
                user_id=user_id,
                amount=refund.amount,
                currency=refund.currency,
                status=refund.status.value,
                credits_reversed=credits_reversed,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["refund_id"])
            .returning(refunds.c.refund_id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def credits_reversed(self, refund_id: str) -> int | None:
        statement = select(refunds.c.credits_reversed).where(refunds.c.refund_id == refund_id)
        result: int | None = (await self._conn.execute(statement)).scalar_one_or_none()
        return result

    async def get(self, refund_id: str) -> RecordedRefund | None:
        statement = select(*_RECORDED).where(refunds.c.refund_id == refund_id)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _recorded(row)

    async def set_status(self, refund_id: str, status: RefundStatus) -> None:
        statement = (
            update(refunds).where(refunds.c.refund_id == refund_id).values(status=status.value)
        )
        await self._conn.execute(statement)

    async def for_payment(self, payment_id: str) -> Sequence[RecordedRefund]:
        statement = select(*_RECORDED).where(refunds.c.payment_id == payment_id)
        return [_recorded(row) for row in (await self._conn.execute(statement)).all()]


def _recorded(row: Row[Any]) -> RecordedRefund:
    return RecordedRefund(
        row.refund_id, row.payment_id, row.amount, RefundStatus(row.status), row.credits_reversed
    )
