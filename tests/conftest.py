"""Database fixtures shared by every test tier.

- ``pg_server_url`` (session): a PostgreSQL server: ``TEST_DATABASE_URL``, else a
  testcontainers PostgreSQL (Docker), else an embedded PostgreSQL (see
  ``tests.pg_servers``); skipped only when none can be had — or failed when
  ``CI=true``, because PostgreSQL tests must never be silently skipped in CI.
- ``new_pg_database`` (session): a factory of fresh, empty, uniquely named databases
  on that server; all are dropped when the session ends.
- ``pg_url`` (session): one fresh database migrated to head, shared by the session.
- ``empty_pg_url``: ``pg_url`` with every table emptied before the test.
- ``sqlite_url``: a migrated SQLite file of the test's own (a copy of a template
  migrated once per session).
- ``db_url``: parametrised over ``sqlite`` and ``postgres`` (marked ``postgres``): a
  migrated, empty database. ``engine``: ``make_engine(db_url)``, disposed afterwards.

The terminal summary says which PostgreSQL served and what was skipped, and why.

Setup work runs in a helper thread with its own event loop, so these fixtures may be
requested from sync and async code alike.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.tables import metadata
from tests.pg_servers import NoServer, start_server

T = TypeVar("T")
POSTGRES_SERVED = pytest.StashKey[str]()


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop, whatever loop is running here."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, make()).result()


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def pg_server_url(pytestconfig: pytest.Config) -> Iterator[str]:
    try:
        server = start_server()
    except NoServer as exc:
        pytestconfig.stash[POSTGRES_SERVED] = f"none ({exc})"
        message = f"no PostgreSQL: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    pytestconfig.stash[POSTGRES_SERVED] = server.description
    try:
        yield server.url
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Which PostgreSQL served, and every skip grouped by its reason."""
    served = config.stash.get(POSTGRES_SERVED, "not used by the selected tests")
    terminalreporter.write_line(f"PostgreSQL: {served}")
    reasons = Counter(_skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{count} skipped: {reason}")


def _skip_reason(report: pytest.TestReport) -> str:
    message = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    return f"{report.location[0]}: {str(message).removeprefix('Skipped: ')}"


async def _admin(server_url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE from the server's ``postgres`` database."""
    url = make_url(server_url).set(database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def new_pg_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    created: list[str] = []

    def create() -> str:
        name = f"creditline_test_{uuid.uuid4().hex[:12]}"
        run_async(lambda: _admin(pg_server_url, f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    yield create
    for name in created:
        run_async(lambda: _admin(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_url(new_pg_database: Callable[[], str]) -> str:
    url = new_pg_database()
    run_async(lambda: upgrade(url))
    return url


async def _empty_tables(url: str) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def empty_pg_url(pg_url: str) -> str:
    run_async(lambda: _empty_tables(pg_url))
    return pg_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "creditline.db"
    run_async(lambda: upgrade(sqlite_url_for(path)))
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "creditline.db"
    shutil.copyfile(sqlite_template, path)
    return sqlite_url_for(path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()
