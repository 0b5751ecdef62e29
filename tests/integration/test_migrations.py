"""The migrations build exactly the schema ``tables.metadata`` describes, both ways.

``compare_metadata`` is alembic's autogenerate diff: empty means a fresh database
migrated to head matches the models (types, nullability, server defaults, indexes,
unique constraints), so nobody has to remember to write a migration by hand-diffing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import alembic_config, downgrade, upgrade
from adapters.sqlalchemy.tables import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
    new_pg_database: Callable[[], str] = request.getfixturevalue("new_pg_database")
    return new_pg_database()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def _inspect(url: str) -> tuple[set[str], list[Any]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    return tables, differences


async def test_upgrade_matches_the_models_and_downgrade_empties(blank_url: str) -> None:
    await upgrade(blank_url)
    tables, differences = await _inspect(blank_url)
    assert differences == []
    assert tables == set(metadata.tables) | {"alembic_version"}

    await downgrade(blank_url, "base")
    tables, _ = await _inspect(blank_url)
    assert tables == {"alembic_version"}

    await upgrade(blank_url)
    _, differences = await _inspect(blank_url)
    assert differences == []


def test_the_alembic_command_line_path_migrates_on_its_own(tmp_path: Path) -> None:
    """``alembic upgrade head`` builds its own engine in env.py (no shared connection)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "base")
    command.upgrade(alembic_config(url), "head")
    assert (tmp_path / "cli.db").exists()
