"""Auto top-up settings and requests on SQL.

``request`` is one INSERT ... SELECT: the monthly sum is checked by the statement that
inserts, and the partial unique index on in-flight rows makes a second request a
no-op (ON CONFLICT DO NOTHING), on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.tables import IN_FLIGHT, accounts, auto_top_up_settings, auto_top_ups
from domain.auto_top_up import IN_FLIGHT as COUNTED_IN_FLIGHT
from domain.auto_top_up import AutoTopUp, AutoTopUpSettings, TopUpStatus

# What the monthly limit counts: top-ups in flight and those that succeeded.
_COUNTED = (*(s.value for s in COUNTED_IN_FLIGHT), TopUpStatus.SUCCEEDED.value)
_SETTINGS = (
    "enabled", "threshold_credits", "amount", "currency", "package_id", "monthly_limit", "failures",
)  # fmt: skip


_HAS_AUTO_TOP_UP = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"), accounts.c.has_auto_top_up.is_(False))
    .values(has_auto_top_up=True)
)


class SqlAutoTopUpRepository:
    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._pg = connection.dialect.name == "postgresql"
        self._insert = insert_for(connection)
        self._hints = AccountHints() if hints is None else hints

    async def settings(self, user_id: str, *, for_update: bool = False) -> AutoTopUpSettings | None:
        if self._hints.no_auto_top_up(user_id):
            return None  # the account row (locked by the spend) says there are none
        query = select(auto_top_up_settings).where(auto_top_up_settings.c.user_id == user_id)
        if for_update and self._pg:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return AutoTopUpSettings(**{name: getattr(row, name) for name in _SETTINGS})

    async def save_settings(self, user_id: str, settings: AutoTopUpSettings, now: datetime) -> None:
        # The account row first (the lock order of every spend), then the settings row.
        await self._conn.execute(_HAS_AUTO_TOP_UP, {"where_user_id": user_id})
        self._hints.forget(user_id)
        values: dict[str, Any] = {name: getattr(settings, name) for name in _SETTINGS}
        statement = self._insert(auto_top_up_settings).values(
            user_id=user_id, updated_at=now, **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=[auto_top_up_settings.c.user_id], set_={"updated_at": now, **values}
        )
        await self._conn.execute(statement)

    async def request(self, top_up: AutoTopUp, monthly_limit: int, since: datetime) -> bool:
        t = auto_top_ups
        spent = (
            select(func.coalesce(func.sum(t.c.amount), 0))
            .where(t.c.user_id == top_up.user_id, t.c.created_at >= since, t.c.status.in_(_COUNTED))
            .scalar_subquery()
        )
        values = _row(top_up)
        cols = list(values)
        source = select(*(literal(values[c], t.c[c].type) for c in cols)).where(
            spent + top_up.amount <= monthly_limit
        )
        statement = (
            self._insert(t)
            .from_select(cols, source)
            .on_conflict_do_nothing(index_elements=[t.c.user_id], index_where=IN_FLIGHT)
            .returning(t.c.id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[AutoTopUp]:
        t = auto_top_ups
        query = (
            select(t)
            .where(t.c.status == TopUpStatus.REQUESTED.value, t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        if self._pg:
            query = query.with_for_update(skip_locked=True)
        due = [_top_up(row) for row in await self._conn.execute(query)]
        if due:
            lease = update(t).where(t.c.id.in_([d.id for d in due]))
            await self._conn.execute(lease.values(next_attempt_at=lease_until))
        return due

    async def get(self, top_up_id: str, *, for_update: bool = False) -> AutoTopUp | None:
        query = select(auto_top_ups).where(auto_top_ups.c.id == top_up_id)
        if for_update and self._pg:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _top_up(row)

    async def by_checkout_payment(
        self, payment_id: str, *, for_update: bool = False
    ) -> AutoTopUp | None:
        query = select(auto_top_ups).where(auto_top_ups.c.checkout_payment_id == payment_id)
        if for_update and self._pg:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _top_up(row)

    async def save(self, top_up: AutoTopUp) -> None:
        values = _row(top_up)
        del values["id"]
        statement = update(auto_top_ups).where(auto_top_ups.c.id == bindparam("where_id"))
        await self._conn.execute(statement.values(**values), {"where_id": top_up.id})

    async def since(self, user_id: str, since: datetime) -> Sequence[AutoTopUp]:
        t = auto_top_ups
        query = (
            select(t)
            .where(and_(t.c.user_id == user_id, t.c.created_at >= since))
            .order_by(t.c.created_at, t.c.id)
        )
        return [_top_up(row) for row in await self._conn.execute(query)]


def _row(top_up: AutoTopUp) -> dict[str, Any]:
    return {
        "id": top_up.id,
        "user_id": top_up.user_id,
        "status": top_up.status.value,
        "amount": top_up.amount,
        "currency": top_up.currency,
        "package_id": top_up.package_id,
        "attempts": top_up.attempts,
        "next_attempt_at": top_up.next_attempt_at,
        "payment_id": top_up.payment_id,
        "last_error": top_up.last_error,
        "created_at": top_up.created_at,
        "checkout_payment_id": top_up.checkout_payment_id,
        "action_url": top_up.action_url,
    }


def _top_up(row: Any) -> AutoTopUp:
    return AutoTopUp(
        id=row.id,
        user_id=row.user_id,
        status=TopUpStatus(row.status),
        amount=row.amount,
        currency=row.currency,
        package_id=row.package_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        payment_id=row.payment_id,
        last_error=row.last_error,
        created_at=row.created_at,
        checkout_payment_id=row.checkout_payment_id,
        action_url=row.action_url,
    )
