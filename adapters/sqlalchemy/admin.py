"""The operator's reads on SQL: users and payments across users, failures; the sums
are in ``admin_totals.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, tuple_

from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from adapters.sqlalchemy.admin_totals import SqlTotals
from adapters.sqlalchemy.holds import _hold as hold_from_row
from adapters.sqlalchemy.payments import _from_row as payment_from_row
from adapters.sqlalchemy.tables import (
    accounts,
    disputes,
    holds,
    outbox,
    payments,
    processed_events,
    users,
)
from application.admin.ports import (
    DELIVERED,
    FailedDelivery,
    FailingEventType,
    PaymentFilter,
    UserRow,
)
from application.ports import Page
from domain.disputes import Dispute, DisputeStatus
from domain.holds import Hold, HoldStatus
from domain.ledger import Account
from domain.payment import Payment
from domain.user import User


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class SqlAdminQueries(SqlTotals):
    async def users(
        self, email: str | None, q: str | None, limit: int, cursor: str | None
    ) -> Page[UserRow]:
        check_limit(limit)
        statement = (
            select(users, accounts.c.balance, accounts.c.held)
            .outerjoin(accounts, accounts.c.user_id == users.c.id)
            .order_by(users.c.created_at.desc(), users.c.id.desc())
            .limit(limit + 1)
        )
        if email is not None:
            statement = statement.where(users.c.email == email)
        if q is not None:
            statement = statement.where(
                or_(func.lower(users.c.email).like(_like(q), escape="\\"), users.c.id == q)
            )
        if cursor is not None:
            created, user_id = decode_time_and_id(cursor)
            statement = statement.where(tuple_(users.c.created_at, users.c.id) < (created, user_id))
        rows = (await self._conn.execute(statement)).all()
        items = [_user_row(row) for row in rows[:limit]]
        last = items[-1].user if items else None
        next_cursor = None
        if last is not None and len(rows) > limit:
            next_cursor = encode_cursor(last.created_at.isoformat(), last.id)
        return Page(items, next_cursor)

    async def payments(self, where: PaymentFilter, limit: int, cursor: str | None) -> Page[Payment]:
        check_limit(limit)
        statement = (
            select(payments)
            .order_by(payments.c.created_at.desc(), payments.c.id.desc())
            .limit(limit + 1)
        )
        if where.status is not None:
            statement = statement.where(payments.c.status == where.status)
        if where.user_id is not None:
            statement = statement.where(payments.c.user_id == where.user_id)
        if where.created_from is not None:
            statement = statement.where(payments.c.created_at >= where.created_from)
        if where.created_to is not None:
            statement = statement.where(payments.c.created_at < where.created_to)
        if cursor is not None:
            created, payment_id = decode_time_and_id(cursor)
            statement = statement.where(
                tuple_(payments.c.created_at, payments.c.id) < (created, payment_id)
            )
        rows = (await self._conn.execute(statement)).all()
        items = [payment_from_row(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(items[-1].created_at.isoformat(), items[-1].id)
        return Page(items, next_cursor)

    async def active_holds(self, user_id: str) -> Sequence[Hold]:
        statement = (
            select(holds)
            .where(holds.c.user_id == user_id, holds.c.status == HoldStatus.ACTIVE.value)
            .order_by(holds.c.created_at, holds.c.id)
        )
        return [hold_from_row(row) for row in (await self._conn.execute(statement)).all()]

    async def disputes_of(self, user_id: str) -> Sequence[Dispute]:
        statement = (
            select(disputes)
            .where(disputes.c.user_id == user_id)
            .order_by(disputes.c.created_at.desc(), disputes.c.id.desc())
        )
        rows = (await self._conn.execute(statement)).all()
        return [Dispute(**{**row._mapping, "status": DisputeStatus(row.status)}) for row in rows]

    async def failed_deliveries(self, limit: int) -> Sequence[FailedDelivery]:
        statement = (
            select(outbox)
            .where(outbox.c.attempts > 0, outbox.c.status != DELIVERED)
            .order_by(outbox.c.occurred_at.desc(), outbox.c.event_id.desc())
            .limit(limit)
        )
        return [
            FailedDelivery(
                row.event_id, row.type, row.user_id, row.occurred_at, row.attempts, row.last_status
            )
            for row in (await self._conn.execute(statement)).all()
        ]

    async def failing_event_types(
        self, since: datetime, outcomes: frozenset[str]
    ) -> Sequence[FailingEventType]:
        events = processed_events.c
        statement = (
            select(events.type, events.outcome, func.count(), func.max(events.received_at))
            .where(events.outcome.in_(sorted(outcomes)), events.received_at >= since)
            .group_by(events.type, events.outcome)
            .order_by(func.count().desc(), events.type)
        )
        rows = (await self._conn.execute(statement)).all()
        return [FailingEventType(t, o, int(n), _aware(last)) for t, o, n, last in rows]


def _user_row(row: Any) -> UserRow:
    user = User(
        id=row.id,
        email=row.email,
        created_at=row.created_at,
        is_admin=row.is_admin,
        referral_code=row.referral_code,
        referred_by=row.referred_by,
    )
    return UserRow(user, Account(user.id, row.balance or 0, row.held or 0))


def _aware(value: datetime | str) -> datetime:
    """``max()`` loses the column's type on SQLite: parse its UTC text back."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
