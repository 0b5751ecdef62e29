"""Alert settings and flags on SQL: one row per user, written by upsert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.ledger import spent_since
from adapters.sqlalchemy.tables import account_alerts, accounts
from domain.alerts import AlertFlags, AlertSettings, AlertState

_HAS_ALERTS = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"), accounts.c.has_alerts.is_(False))
    .values(has_alerts=True)
)


class SqlAlertRepository:
    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._insert = insert_for(connection)
        self._hints = AccountHints() if hints is None else hints

    async def get(self, user_id: str, *, for_update: bool = False) -> AlertState:
        if self._hints.no_alerts(user_id):
            return AlertState()  # the account row (locked by the grant) says there is none
        query = select(account_alerts).where(account_alerts.c.user_id == user_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return AlertState()
        return AlertState(
            AlertSettings(row.low_balance_threshold, row.runway_alert_days),
            AlertFlags(row.low_balance_armed, row.depleted_armed, row.runway_low_armed),
        )

    async def save_settings(self, user_id: str, settings: AlertSettings, now: datetime) -> None:
        await self._upsert(
            user_id,
            now,
            low_balance_threshold=settings.low_balance_threshold,
            runway_alert_days=settings.runway_alert_days,
        )

    async def save_flags(self, user_id: str, flags: AlertFlags, now: datetime) -> None:
        await self._upsert(
            user_id,
            now,
            low_balance_armed=flags.low_balance,
            depleted_armed=flags.depleted,
            runway_low_armed=flags.runway_low,
        )

    async def _upsert(self, user_id: str, now: datetime, **values: Any) -> None:
        # The account row first (the lock order of every spend), then the alerts row.
        await self._conn.execute(_HAS_ALERTS, {"where_user_id": user_id})
        self._hints.forget(user_id)
        statement = self._insert(account_alerts).values(user_id=user_id, updated_at=now, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[account_alerts.c.user_id], set_={"updated_at": now, **values}
        )
        await self._conn.execute(statement)

    async def spent_since(self, user_id: str, since: datetime) -> int:
        return int((await self._conn.execute(spent_since(user_id, since))).scalar_one())
