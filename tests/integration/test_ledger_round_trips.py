"""The SQL ledger's round trips per posting: its cost on the hot path, pinned.

A grant (every paid webhook) is one ``UPDATE ... RETURNING`` and one ``INSERT``; the
lot is sized from the returned balance, never read. A debit adds the lot read, the
lot update and the allocation insert, each one statement however many lots it takes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.uow import uow_factory
from domain.ledger import EntryKind, Posting, purchase_posting

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def test_a_grant_costs_two_round_trips_and_a_debit_five(engine: AsyncEngine) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "pay_0", 5), NOW)
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            await uow.ledger.post(purchase_posting("u1", "pay_1", 1000), NOW)
            granted = list(statements)
            statements.clear()
            debit = Posting("u1", -500, EntryKind.USAGE_DEBIT, "req", "r1", "use:r1")
            entry = await uow.ledger.post(debit, NOW)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert entry is not None and len(await uow.lots.allocations(entry.id)) == 2
    assert granted == ["UPDATE", "INSERT"]
    assert statements == ["UPDATE", "SELECT", "INSERT", "UPDATE", "INSERT"]
