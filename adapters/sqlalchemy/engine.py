"""Engine construction for PostgreSQL (asyncpg) and SQLite (aiosqlite).

SQLite allows one writer at a time, and its Python driver's legacy transaction
control begins a transaction only at the first INSERT/UPDATE: the ``SELECT`` of a
read-then-write runs outside it, so two concurrent webhooks both read the old row
and one update is lost; a plain deferred ``BEGIN`` instead makes the second reader
fail with "database is locked" when it tries to write. So SQLAlchemy takes over
transaction control and every transaction starts with ``BEGIN IMMEDIATE``: the write
lock is taken up front and the others queue on ``busy_timeout``. WAL lets readers
outside a transaction proceed while a writer works. ``synchronous`` stays FULL: a
commit acknowledged to Stripe must survive a power cut.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sqlalchemy.reconnect import ReconnectingEngine

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_POOL_SIZE = 20
PG_MAX_OVERFLOW = 10


def make_engine(
    url: str,
    *,
    pool_size: int = PG_POOL_SIZE,
    max_overflow: int = PG_MAX_OVERFLOW,
    **kwargs: Any,
) -> AsyncEngine:
    """An ``AsyncEngine`` configured for creditline's transactions; ``kwargs`` pass through.

    ``pool_size``/``max_overflow``: the PostgreSQL pool of this process (SQLite keeps one
    connection)."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if backend == "postgresql":
        options: dict[str, Any] = {
            # No pre-ping: on asyncpg it is BEGIN, ";", ROLLBACK (three round trips) before
            # every transaction. A connection the server dropped fails its first statement
            # instead, which then runs again on a fresh connection (``reconnect.py``).
            # Short OLTP statements only: JIT compilation costs more than it saves.
            "connect_args": {"server_settings": {"jit": "off"}},
        }
        if "poolclass" not in kwargs:
            options |= {"pool_size": pool_size, "max_overflow": max_overflow}
        return ReconnectingEngine(create_async_engine(url, **(options | kwargs)).sync_engine)
    raise ValueError(
        f"unsupported database '{backend}': use postgresql+asyncpg or sqlite+aiosqlite"
    )


def _sqlite_engine(url: str, **kwargs: Any) -> AsyncEngine:
    options: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # Every transaction is BEGIN IMMEDIATE, so they run one at a time anyway: one
        # connection makes them queue in the pool (first come, first served) instead
        # of in SQLite's busy handler, which sleeps and retries with growing pauses.
        "pool_size": 1,
        "max_overflow": 0,
    }
    engine = create_async_engine(url, **(options | kwargs))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own (deferred) BEGIN; see the module docstring.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
