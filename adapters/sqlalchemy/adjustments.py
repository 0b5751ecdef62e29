"""Admin adjustments on SQL: the per-key lock, the 24-hour total, the reasons.

The lock is an upsert of the key's row: ``INSERT ... ON CONFLICT DO UPDATE`` takes
the row lock on PostgreSQL (a second transaction of the same key waits for the first
to end), and SQLite's ``BEGIN IMMEDIATE`` already runs writers one at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.tables import admin_adjustments, admin_keys
from application.admin.ports import AdminAdjustment


class SqlAdjustmentLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def lock_key(self, admin_key_id: str, now: datetime) -> None:
        statement = self._insert(admin_keys).values(
            key_id=admin_key_id, first_used_at=now, last_used_at=now
        )
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["key_id"], set_={"last_used_at": statement.excluded.last_used_at}
            )
        )

    async def granted_since(self, admin_key_id: str, since: datetime) -> int:
        statement = select(func.coalesce(func.sum(admin_adjustments.c.credits), 0)).where(
            admin_adjustments.c.admin_key_id == admin_key_id,
            admin_adjustments.c.created_at >= since,
            admin_adjustments.c.credits > 0,
        )
        return int((await self._conn.execute(statement)).scalar_one())

    async def add(self, adjustment: AdminAdjustment) -> None:
        await self._conn.execute(
            admin_adjustments.insert().values(
                entry_id=adjustment.entry_id,
                idempotency_key=adjustment.idempotency_key,
                user_id=adjustment.user_id,
                admin_key_id=adjustment.admin_key_id,
                credits=adjustment.credits,
                reason=adjustment.reason,
                balance_after=adjustment.balance_after,
                created_at=adjustment.created_at,
            )
        )

    async def find(self, idempotency_key: str) -> AdminAdjustment | None:
        statement = select(admin_adjustments).where(
            admin_adjustments.c.idempotency_key == idempotency_key
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _adjustment(row)


def _adjustment(row: Row[tuple[object, ...]]) -> AdminAdjustment:
    return AdminAdjustment(
        entry_id=row.entry_id,
        user_id=row.user_id,
        admin_key_id=row.admin_key_id,
        credits=row.credits,
        reason=row.reason,
        idempotency_key=row.idempotency_key,
        balance_after=row.balance_after,
        created_at=row.created_at,
    )
