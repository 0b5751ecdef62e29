"""A transaction that meets a connection the server dropped runs once more, on a fresh one.

After a restart, a failover or killed backends, the pool holds dead connections and
there is no pre-ping (``engine.py``). The first statement of a transaction on such a
connection fails as a disconnect (``DBAPIError.connection_invalidated``; SQLAlchemy
then discards that connection, and the pool every connection older than it). Nothing
of that transaction can count: it was never committed, and the server rolls back what
a dropped connection had begun. So the transaction is ended and the statement run
again on a fresh connection, once: a database that is still away fails it again.

Only a transaction's first statement is retried, and only in a transaction begun by
that statement (as ``async with uow:`` and a bare ``connect()`` do): a failure after
it is the caller's to see, since its work so far is lost; and under ``AUTOCOMMIT`` a
statement may have been applied before the connection dropped. The exception is a
connection marked ``READS_ONLY`` (the read-only unit of work): its statements are
reads, each its own transaction, so any of them runs again on a fresh connection.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

log = logging.getLogger(__name__)

T = TypeVar("T")

READS_ONLY = "creditline_reads_only"
"""Execution option: every statement on this autocommit connection is a read."""


async def first_statement(conn: AsyncConnection, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt``; if it begins the transaction and meets a dead connection, again."""
    if conn.in_transaction() or conn.sync_connection is None:
        return await attempt()
    sync = conn.sync_connection
    if sync._is_autocommit_isolation() and not sync.get_execution_options().get(READS_ONLY):
        return await attempt()
    try:
        return await attempt()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database_reconnect error=%s", type(exc.orig).__name__)
        await conn.rollback()  # ends the transaction of the dead connection, if any
    return await attempt()


class _FirstSavepoint(AsyncTransaction):
    """A SAVEPOINT that begins its connection's transaction (a user insert's, say)."""

    async def start(self, is_ctxmanager: bool = False) -> AsyncTransaction:
        start = super().start
        return await first_statement(self.connection, lambda: start(is_ctxmanager))


class ReconnectingConnection(AsyncConnection):
    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        run = super().execute
        return await first_statement(self, lambda: run(statement, parameters, **kwargs))

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        run = super().exec_driver_sql
        return await first_statement(self, lambda: run(statement, parameters, **kwargs))

    def begin_nested(self) -> AsyncTransaction:
        if self.in_transaction():
            return super().begin_nested()
        return _FirstSavepoint(self, nested=True)


class ReconnectingEngine(AsyncEngine):
    """An ``AsyncEngine`` whose connections retry a first statement that met a dead one."""

    _connection_cls = ReconnectingConnection
