"""The ledger's property sequences on SQLite, compared with the memory adapter.

The memory ledger is what the unit tests trust, so it must mean what SQL means: the
same operations leave the same entries, lots and allocations on both (ids included,
since neither adapter spends an id on a rolled-back or duplicate insert).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from tests.conftest import sqlite_url_for
from tests.unit.domain.test_ledger_properties import USERS, Op, ops, run_ledger_ops


async def _snapshot(factory: UnitOfWorkFactory) -> list[Any]:
    """Every user's entries, unspent lots and allocations, through the port."""
    seen: list[Any] = []
    async with factory() as uow:
        for user_id in USERS:
            entries = (await uow.ledger.entries(user_id, 1000, None)).items
            seen.append(list(entries))
            seen.append(list(await uow.lots.open_lots(user_id)))
            seen += [list(await uow.lots.allocations(entry.id)) for entry in entries]
    return seen


async def _compare(database: Path, operations: list[Op]) -> None:
    store = MemoryStore()
    await run_ledger_ops(store.uow_factory, operations)
    engine = make_engine(sqlite_url_for(database))
    try:
        await run_ledger_ops(uow_factory(engine), operations)
        assert await _snapshot(uow_factory(engine)) == await _snapshot(store.uow_factory)
    finally:
        await engine.dispose()


@settings(max_examples=25, deadline=None)
@given(ops)
def test_sqlite_keeps_the_invariants_and_agrees_with_memory(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, operations: list[Op]
) -> None:
    database = tmp_path_factory.mktemp("ledger-properties") / "creditline.db"
    shutil.copyfile(sqlite_template, database)
    asyncio.run(_compare(database, operations))
