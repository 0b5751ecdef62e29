"""Lots on SQL: the unspent part of each grant and the allocations of each debit.

Locking protocol (PostgreSQL): the account row is the user's mutex. ``post`` locks it
first (its ``UPDATE``) and only then the user's lots, so lots never change under a
writer that holds the account. ``expired_lots`` takes the account *and* the lot rows
with ``SKIP LOCKED``: it never waits, so it cannot deadlock with a debit that holds
the account and waits for a lot; and the expiries it then posts need only rows it
already holds. SQLite has one writer at a time (``BEGIN IMMEDIATE``) and ignores
``FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit
from adapters.sqlalchemy.tables import accounts, ledger_allocations, ledger_entries
from domain.ledger import Allocation, EntryKind, Lot, Posting

_entries = ledger_entries.c
_LOT = (
    _entries.id,
    _entries.user_id,
    _entries.credits,
    _entries.lot_remaining,
    _entries.expires_at,
    _entries.kind,
    _entries.idempotency_key,
)
# domain.lots.consumption_order, in SQL: soonest expiry first, non-expiring last.
_CONSUMPTION_ORDER = (_entries.expires_at.asc().nulls_last(), _entries.id)

_spend = (
    update(ledger_entries)
    .where(_entries.id == bindparam("lot_id"))
    .values(lot_remaining=_entries.lot_remaining - bindparam("taken"))
)


class SqlLotRepository:
    """The lots port, and the lot steps of ``SqlLedgerRepository.post``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def for_debit(self, posting: Posting) -> list[Lot]:
        """Lock and read the lots ``posting`` may consume (the caller holds the account)."""
        statement = _open(posting.user_id).with_for_update()
        if posting.kind is EntryKind.EXPIRY:
            statement = statement.where(_entries.id == posting.lot_entry_id)
        return await self._lots(statement)

    async def record(self, entry_id: int, user_id: str, allocations: Sequence[Allocation]) -> None:
        """Lower the consumed lots and remember which lots entry ``entry_id`` consumed
        (a refill's negative allocations raise the lots it gives back to)."""
        await self._conn.execute(
            _spend, [{"lot_id": lot_id, "taken": taken} for lot_id, taken in allocations]
        )
        await self._conn.execute(
            insert(ledger_allocations),
            [
                {"user_id": user_id, "entry_id": entry_id, "lot_entry_id": lot_id, "credits": taken}
                for lot_id, taken in allocations
            ],
        )

    async def lot_for_key(self, idempotency_key: str) -> Lot | None:
        statement = select(*_LOT).where(
            _entries.idempotency_key == idempotency_key, _entries.credits > 0
        )
        lots = await self._lots(statement)
        return lots[0] if lots else None

    async def open_lots(self, user_id: str) -> Sequence[Lot]:
        return await self._lots(_open(user_id))

    async def lots(self, entry_ids: Sequence[int]) -> Sequence[Lot]:
        if not entry_ids:
            return []
        statement = select(*_LOT).where(_entries.id.in_(entry_ids), _entries.credits > 0)
        return await self._lots(statement)

    async def allocations(self, entry_id: int) -> Sequence[Allocation]:
        statement = (
            select(ledger_allocations.c.lot_entry_id, ledger_allocations.c.credits)
            .where(ledger_allocations.c.entry_id == entry_id)
            .order_by(ledger_allocations.c.id)
        )
        rows = (await self._conn.execute(statement)).all()
        return [Allocation(row.lot_entry_id, row.credits) for row in rows]

    async def expired_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        check_limit(limit)
        statement = (
            select(*_LOT)
            .select_from(accounts.join(ledger_entries, _entries.user_id == accounts.c.user_id))
            .where(_entries.expires_at <= now, _entries.lot_remaining > 0)
            .order_by(_entries.expires_at, _entries.id)
            .limit(limit)
            .with_for_update(of=[accounts, ledger_entries], skip_locked=True)
        )
        return await self._lots(statement)

    async def _lots(self, statement: Select[Any]) -> list[Lot]:
        return [_lot(row) for row in (await self._conn.execute(statement)).all()]


def _open(user_id: str) -> Select[Any]:
    return (
        select(*_LOT)
        .where(_entries.user_id == user_id, _entries.lot_remaining > 0)
        .order_by(*_CONSUMPTION_ORDER)
    )


def _lot(row: Row[tuple[object, ...]]) -> Lot:
    return Lot(
        entry_id=row.id,
        user_id=row.user_id,
        credits=row.credits,
        remaining=row.lot_remaining,
        expires_at=row.expires_at,
        kind=EntryKind(row.kind),
        idempotency_key=row.idempotency_key,
    )
