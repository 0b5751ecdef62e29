"""Holds, key answers and disputes on SQL: plain rows mapped to the domain's records.

``claim_expired`` locks the holds and their accounts ``SKIP LOCKED`` (PostgreSQL), so
parallel ``batch expire-holds`` workers take disjoint holds and never wait on a debit
that holds an account; SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit
from adapters.sqlalchemy.tables import accounts, disputes, holds, spend_requests
from domain.disputes import Dispute, DisputeStatus
from domain.holds import Hold, HoldKind, HoldStatus
from domain.spending import StoredAnswer


class SqlSpendRequests:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def answers(self, user_id: str, keys: Sequence[str]) -> Mapping[str, StoredAnswer]:
        if not keys:
            return {}
        statement = select(spend_requests).where(
            spend_requests.c.user_id == user_id, spend_requests.c.idempotency_key.in_(keys)
        )
        rows = (await self._conn.execute(statement)).all()
        return {
            row.idempotency_key: StoredAnswer(
                row.fingerprint, row.result_id, row.balance, row.available
            )
            for row in rows
        }

    async def answer(self, user_id: str, key: str, answer: StoredAnswer) -> None:
        statement = (
            update(spend_requests)
            .where(spend_requests.c.user_id == user_id, spend_requests.c.idempotency_key == key)
            .values(result_id=answer.result_id, balance=answer.balance, available=answer.available)
        )
        await self._conn.execute(statement)

    async def forget(self, user_id: str, keys: Sequence[str]) -> None:
        statement = delete(spend_requests).where(
            spend_requests.c.user_id == user_id, spend_requests.c.idempotency_key.in_(keys)
        )
        await self._conn.execute(statement)


class SqlHoldRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, hold: Hold) -> None:
        await self._conn.execute(holds.insert().values(_hold_row(hold)))

    async def get(self, hold_id: str, *, for_update: bool = False) -> Hold | None:
        statement = select(holds).where(holds.c.id == hold_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _hold(row)

    async def save(self, hold: Hold) -> None:
        row = _hold_row(hold)
        statement = update(holds).where(holds.c.id == hold.id).values(row)
        await self._conn.execute(statement)

    async def for_reference(self, reference_id: str) -> Hold | None:
        statement = select(holds).where(holds.c.reference_id == reference_id).limit(1)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _hold(row)

    async def expired_of(self, user_id: str, now: datetime) -> Sequence[Hold]:
        statement = (
            select(holds)
            .where(holds.c.user_id == user_id, holds.c.status == HoldStatus.ACTIVE.value)
            .where(holds.c.expires_at <= now)
            .order_by(holds.c.id)
            .with_for_update()
        )
        return [_hold(row) for row in (await self._conn.execute(statement)).all()]

    async def claim_expired(self, now: datetime, limit: int) -> Sequence[Hold]:
        check_limit(limit)
        statement = (
            select(holds)
            .select_from(holds.join(accounts, accounts.c.user_id == holds.c.user_id))
            .where(holds.c.status == HoldStatus.ACTIVE.value, holds.c.expires_at <= now)
            .order_by(holds.c.expires_at, holds.c.id)
            .limit(limit)
            .with_for_update(of=[holds, accounts], skip_locked=True)
        )
        return [_hold(row) for row in (await self._conn.execute(statement)).all()]


class SqlDisputeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, dispute: Dispute) -> None:
        await self._conn.execute(disputes.insert().values(_dispute_row(dispute)))

    async def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None:
        statement = select(disputes).where(disputes.c.id == dispute_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).first()
        if row is None:
            return None
        fields = dict(row._mapping)
        return Dispute(**{**fields, "status": DisputeStatus(fields["status"])})

    async def save(self, dispute: Dispute) -> None:
        statement = (
            update(disputes).where(disputes.c.id == dispute.id).values(_dispute_row(dispute))
        )
        await self._conn.execute(statement)


def _hold_row(hold: Hold) -> dict[str, Any]:
    row = asdict(hold)
    row["kind"] = hold.kind.value
    row["status"] = hold.status.value
    return row


def _hold(row: Row[Any]) -> Hold:
    fields = dict(row._mapping)
    fields["kind"] = HoldKind(fields["kind"])
    fields["status"] = HoldStatus(fields["status"])
    return Hold(**fields)


def _dispute_row(dispute: Dispute) -> dict[str, Any]:
    row = asdict(dispute)
    row["status"] = dispute.status.value
    return row
