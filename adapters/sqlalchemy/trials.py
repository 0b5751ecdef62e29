"""Trials on SQL: the row's primary key is the normalised email, so a second trial
for one mailbox is an ``ON CONFLICT DO NOTHING`` that inserts nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.tables import accounts, trials
from domain.trial import Trial

# Runs on every purchase: built once (see ``dialect.per_dialect``).
_MARK_CONVERTED = (
    update(trials)
    .where(trials.c.user_id == bindparam("where_user_id"), trials.c.converted_at.is_(None))
    .values(converted_at=bindparam("new_converted_at"))
)


_FLAG = (
    update(accounts).where(accounts.c.user_id == bindparam("where_user_id")).values(has_trial=True)
)


class SqlTrialRepository:
    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._insert = insert_for(connection)
        self._hints = AccountHints() if hints is None else hints

    async def start(self, trial: Trial) -> bool:
        statement = (
            self._insert(trials)
            .values(asdict(trial))
            .on_conflict_do_nothing()
            .returning(trials.c.user_id)
        )
        if (await self._conn.execute(statement)).first() is None:
            return False
        await self._conn.execute(_FLAG, {"where_user_id": trial.user_id})
        self._hints.forget(trial.user_id)
        return True

    async def get(self, user_id: str) -> Trial | None:
        if self._hints.no_trial(user_id):
            return None
        row = (await self._conn.execute(select(trials).where(trials.c.user_id == user_id))).first()
        return None if row is None else Trial(**row._mapping)

    async def mark_converted(self, user_id: str, now: datetime) -> None:
        await self._conn.execute(
            _MARK_CONVERTED, {"where_user_id": user_id, "new_converted_at": now}
        )
