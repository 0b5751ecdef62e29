"""The spending state machine (``tests/unit/spending/spending_machine.py``) on PostgreSQL:
a smaller run, each example on emptied tables."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import text

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import metadata
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from tests.unit.spending.spending_machine import SpendingMachine


@pytest.mark.postgres
def test_spending_keeps_the_ledger_exact_on_postgres(pg_url: str) -> None:
    opened: list[tuple[asyncio.AbstractEventLoop, Any]] = []

    def make() -> tuple[UnitOfWorkFactory, Any]:
        loop = asyncio.new_event_loop()
        engine = make_engine(pg_url)
        opened.append((loop, engine))
        names = ", ".join(table.name for table in metadata.sorted_tables)

        async def empty() -> None:
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

        loop.run_until_complete(empty())
        return uow_factory(engine), loop.run_until_complete

    class OnPostgres(SpendingMachine):
        pass

    OnPostgres.make = staticmethod(make)  # type: ignore[method-assign]
    try:
        run_state_machine_as_test(
            OnPostgres, settings=settings(max_examples=8, stateful_step_count=20, deadline=None)
        )
    finally:
        for loop, engine in opened:
            loop.run_until_complete(engine.dispose())
            loop.close()
