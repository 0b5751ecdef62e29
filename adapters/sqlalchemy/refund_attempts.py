"""Admin refund requests on SQL: the primary key (payment, number) and the unique
client key decide, by ``ON CONFLICT DO NOTHING``, which of two racing requests
records its row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.tables import refund_attempts
from application.refunds.attempts import AttemptState, RefundAttempt
from application.refunds.gateway import RefundStatus

_ROW = refund_attempts.c


class SqlRefundAttempts:
    _conn: AsyncConnection

    async def start_attempt(self, attempt: RefundAttempt) -> bool:
        statement = (
            insert_for(self._conn)(refund_attempts)
            .values(**_values(attempt))
            .on_conflict_do_nothing()
            .returning(_ROW.number)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def attempt_for_key(self, client_key: str) -> RefundAttempt | None:
        statement = select(refund_attempts).where(_ROW.client_key == client_key)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _attempt(row)

    async def attempts(self, payment_id: str) -> Sequence[RefundAttempt]:
        statement = (
            select(refund_attempts).where(_ROW.payment_id == payment_id).order_by(_ROW.number)
        )
        return [_attempt(row) for row in (await self._conn.execute(statement)).all()]

    async def save_attempt(self, attempt: RefundAttempt) -> None:
        statement = (
            update(refund_attempts)
            .where(_ROW.payment_id == attempt.payment_id, _ROW.number == attempt.number)
            .values(
                state=attempt.state.value,
                refund_id=attempt.refund_id,
                status=None if attempt.status is None else attempt.status.value,
                credits_reversed=attempt.credits_reversed,
            )
        )
        await self._conn.execute(statement)

    async def drop_attempt(self, attempt: RefundAttempt) -> None:
        statement = delete(refund_attempts).where(
            _ROW.payment_id == attempt.payment_id, _ROW.number == attempt.number
        )
        await self._conn.execute(statement)


def _values(attempt: RefundAttempt) -> dict[str, Any]:
    return {
        "payment_id": attempt.payment_id,
        "number": attempt.number,
        "client_key": attempt.client_key,
        "requested": attempt.requested,
        "amount": attempt.amount,
        "reason": attempt.reason,
        "started_at": attempt.started_at,
        "state": attempt.state.value,
        "refund_id": attempt.refund_id,
        "status": None if attempt.status is None else attempt.status.value,
        "credits_reversed": attempt.credits_reversed,
    }


def _attempt(row: Row[Any]) -> RefundAttempt:
    return RefundAttempt(
        payment_id=row.payment_id,
        number=row.number,
        client_key=row.client_key,
        requested=row.requested,
        amount=row.amount,
        reason=row.reason,
        started_at=row.started_at,
        state=AttemptState(row.state),
        refund_id=row.refund_id,
        status=None if row.status is None else RefundStatus(row.status),
        credits_reversed=row.credits_reversed,
    )
