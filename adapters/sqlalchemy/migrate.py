"""Run the alembic migrations from code: ``creditline db upgrade`` and ``just serve``.

The migrations run on a connection of ``make_engine(url)``, in one transaction, so
SQLite gets the same ``BEGIN IMMEDIATE`` (and transactional DDL) as the app. The
alembic files are found relative to this repository, whatever the working directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import make_engine

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` ("base" empties it)."""
    await _run(url, lambda config: command.downgrade(config, revision))


def upgrade_sync(url: str, revision: str = "head") -> None:
    """``upgrade`` for callers without an event loop (the CLI, ``just serve``)."""
    asyncio.run(upgrade(url, revision))


async def _run(url: str, step: Callable[[Config], None]) -> None:
    engine = make_engine(url)

    def on_connection(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        step(config)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(on_connection)
    finally:
        await engine.dispose()
