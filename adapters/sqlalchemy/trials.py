"""Trials on SQL: the row's primary key is the normalised email, so a second trial
for one mailbox is an ``ON CONFLICT DO NOTHING`` that inserts nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.tables import trials
from domain.trial import Trial

# Runs on every purchase: built once (see ``dialect.per_dialect``).
_MARK_CONVERTED = (
    update(trials)
    .where(trials.c.user_id == bindparam("where_user_id"), trials.c.converted_at.is_(None))
    .values(converted_at=bindparam("new_converted_at"))
)


class SqlTrialRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def start(self, trial: Trial) -> bool:
        statement = (
            self._insert(trials)
            .values(asdict(trial))
            .on_conflict_do_nothing()
            .returning(trials.c.user_id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def get(self, user_id: str) -> Trial | None:
        row = (await self._conn.execute(select(trials).where(trials.c.user_id == user_id))).first()
        return None if row is None else Trial(**row._mapping)

    async def mark_converted(self, user_id: str, now: datetime) -> None:
        await self._conn.execute(
            _MARK_CONVERTED, {"where_user_id": user_id, "new_converted_at": now}
        )
