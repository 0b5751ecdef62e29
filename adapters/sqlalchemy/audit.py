"""The ledger's audit reads on SQL: ``ledger verify`` and reconciliation's look-ups.

Each check of ``verify`` is one statement, so it reads one snapshot: a verify running
beside live writes reports no offence that a half-seen transaction would cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.ledger import entry_from_row
from adapters.sqlalchemy.tables import accounts, ledger_allocations, ledger_entries
from domain.ledger import BalanceMismatch, EntryKind, LedgerEntry
from domain.ledger_checks import LedgerMismatch, LotMismatch, OverConsumedLot, lot_mismatches

_entries = ledger_entries.c


class SqlLedgerAudit:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def verify(self) -> Sequence[LedgerMismatch]:
        rows = (await self._conn.execute(_BALANCE_MISMATCHES)).all()
        balances: list[LedgerMismatch] = [
            BalanceMismatch(row.user_id, row.balance, int(row.summed)) for row in rows
        ]
        return balances + await self._lot_mismatches()

    async def _lot_mismatches(self) -> list[LotMismatch]:
        """``domain.ledger_checks.lot_mismatches`` from two scans: lots that gave more
        than they granted, then per-user sums of entries and remainders."""
        rows = (await self._conn.execute(_OVER_CONSUMED)).all()
        over_consumed = [
            (row.user_id, OverConsumedLot(row.id, row.credits, int(row.allocated), row.remaining))
            for row in rows
        ]
        offenders = sorted({user_id for user_id, _ in over_consumed})
        found = (await self._conn.execute(_totals(offenders))).all()
        return lot_mismatches(
            ((row.user_id, int(row.summed), int(row.unspent)) for row in found), over_consumed
        )

    async def find_entry(self, idempotency_key: str) -> LedgerEntry | None:
        statement = select(ledger_entries).where(_entries.idempotency_key == idempotency_key)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else entry_from_row(row)

    async def entries_since(
        self, kind: EntryKind, since: datetime, after_id: int, limit: int
    ) -> Sequence[LedgerEntry]:
        """Keyset on the primary key; ``created_at`` filters (audits are rare, not hot)."""
        statement = (
            select(ledger_entries)
            .where(
                _entries.kind == kind.value, _entries.created_at >= since, _entries.id > after_id
            )
            .order_by(_entries.id)
            .limit(limit)
        )
        return [entry_from_row(row) for row in (await self._conn.execute(statement)).all()]


def _balance_mismatches() -> Select[Any]:
    """Accounts whose cached balance is not the sum of their entries."""
    sums = (
        select(_entries.user_id, func.sum(_entries.credits).label("total"))
        .group_by(_entries.user_id)
        .subquery()
    )
    summed = func.coalesce(sums.c.total, 0)
    return (
        select(accounts.c.user_id, accounts.c.balance, summed.label("summed"))
        .outerjoin(sums, sums.c.user_id == accounts.c.user_id)
        .where(accounts.c.balance != summed)
        .order_by(accounts.c.user_id)
    )


_BALANCE_MISMATCHES = _balance_mismatches()


def _over_consumed() -> Select[Any]:
    allocations = ledger_allocations.c
    allocated = (
        select(allocations.lot_entry_id, func.sum(allocations.credits).label("taken"))
        .group_by(allocations.lot_entry_id)
        .subquery()
    )
    taken = func.coalesce(allocated.c.taken, 0)
    remaining = _entries.lot_remaining
    return (
        select(
            _entries.id,
            _entries.user_id,
            _entries.credits,
            remaining.label("remaining"),
            taken.label("allocated"),
        )
        .select_from(ledger_entries.outerjoin(allocated, allocated.c.lot_entry_id == _entries.id))
        .where(remaining.is_not(None))
        .where(
            or_(remaining < 0, remaining > _entries.credits, taken + remaining > _entries.credits)
        )
    )


# domain.ledger_checks.is_over_consumed, in SQL, over every lot.
_OVER_CONSUMED = _over_consumed()


def _totals(offenders: Sequence[str]) -> Select[Any]:
    """Per user, the sum of entries and of lot remainders: for users whose remainders
    are not ``max(summed, 0)``, and for ``offenders`` (users with over-consumed lots)."""
    summed = func.sum(_entries.credits)
    unspent = func.coalesce(func.sum(_entries.lot_remaining), 0)
    expected = case((summed > 0, summed), else_=0)
    return (
        select(_entries.user_id, summed.label("summed"), unspent.label("unspent"))
        .group_by(_entries.user_id)
        .having(or_(unspent != expected, _entries.user_id.in_(offenders)))
    )
