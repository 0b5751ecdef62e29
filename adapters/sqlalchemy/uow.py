"""The unit of work on SQL: one connection, one transaction, every repository on it.

``async with uow:`` checks out a connection; its first statement begins the
transaction (``BEGIN IMMEDIATE`` on SQLite, see ``engine.py``), so that a first
statement meeting a connection the server dropped can run again on a fresh one
(``reconnect.py``). ``await uow.commit()`` commits; leaving the block without
committing rolls back, also after an exception. Repositories never commit.

Wiring: ``make_engine(url)`` once per process, then ``uow_factory(engine)`` is the
application's ``UnitOfWorkFactory``.

``read_uow_factory(engine)`` gives units for reads that need no snapshot (a balance,
a page of history, a key's owner): their connection is in autocommit, so each
statement is its own transaction and no ``BEGIN``/``ROLLBACK`` round trips surround
it. Such a unit refuses ``commit()``; only use cases that never write are bound to it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.adjustments import SqlAdjustmentLog
from adapters.sqlalchemy.admin import SqlAdminQueries
from adapters.sqlalchemy.alerts import SqlAlertRepository
from adapters.sqlalchemy.audit import SqlLedgerAudit
from adapters.sqlalchemy.auto_top_ups import SqlAutoTopUpRepository
from adapters.sqlalchemy.commit_writes import HeldOutcome
from adapters.sqlalchemy.coupons import SqlCouponRepository
from adapters.sqlalchemy.events import SqlEventLog, SqlRefundLog
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.holds import SqlDisputeRepository, SqlHoldRepository, SqlSpendRequests
from adapters.sqlalchemy.ledger import SqlLedgerRepository
from adapters.sqlalchemy.lots import SqlLotRepository
from adapters.sqlalchemy.outbox import SqlOutbox
from adapters.sqlalchemy.payments import SqlPaymentRepository
from adapters.sqlalchemy.reconnect import READS_ONLY
from adapters.sqlalchemy.referrals import SqlReferralRepository
from adapters.sqlalchemy.spending import SqlSpendingLedger
from adapters.sqlalchemy.subscriptions import SqlCustomerRepository, SqlSubscriptionRepository
from adapters.sqlalchemy.trials import SqlTrialRepository
from adapters.sqlalchemy.users import SqlUserRepository
from application.bootstrap import follow_ups
from application.messagebus import MessageBus, NewEvents, SeenPayments
from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.events import DomainEvent


class SqlAlchemyUnitOfWork(UnitOfWork):
    def __init__(
        self, engine: AsyncEngine, bus: MessageBus | None = None, *, read_only: bool = False
    ) -> None:
        """``bus``: the same-transaction follow-ups; by default the application's own.
        ``read_only``: the connection is in autocommit, ``commit()`` is refused."""
        self._engine = engine
        self._read_only = read_only
        self._bus = follow_ups() if bus is None else bus
        self._conn: AsyncConnection | None = None
        self._new = NewEvents()
        self._held = HeldOutcome()

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("a unit of work is not re-entrant; ask the factory for another")
        conn = await self._engine.connect()
        if self._read_only:
            await conn.execution_options(isolation_level="AUTOCOMMIT", **{READS_ONLY: True})
        self._conn = conn
        self._new = NewEvents()
        self._held = HeldOutcome()
        self._hints = AccountHints()  # what this transaction read or changed on the accounts
        for name in _REPOSITORIES:  # built on first use, on this unit's connection
            self.__dict__.pop(name, None)
        return self

    def __getattr__(self, name: str) -> Any:
        """A repository, built when first asked for: a read uses one or two of them, and
        building all twenty cost more than its statement's SQLAlchemy overhead."""
        build = _REPOSITORIES.get(name)
        if build is None or self.__dict__.get("_conn") is None:
            raise AttributeError(name)
        repository = build(self, self._conn)
        setattr(self, name, repository)
        return repository

    def record(self, event: DomainEvent) -> None:
        self._new.record(event)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    async def commit(self) -> None:
        """Publish the new events (outbox rows, follow-ups) in the transaction, commit, then
        tell the bus's observers."""
        if self._conn is None:
            raise RuntimeError("commit() outside 'async with uow:'")
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        published = await self._bus.publish(self, self._new)
        await self._held.flush(self._conn)  # the gateway event outcome, unless sent already
        await self._conn.commit()
        self._bus.committed(published)


_REPOSITORIES: dict[str, Callable[[SqlAlchemyUnitOfWork, AsyncConnection], object]] = {
    "payments": lambda uow, conn: SeenPayments(SqlPaymentRepository(conn), uow._new),
    "ledger": lambda uow, conn: SqlLedgerRepository(conn, uow._hints),
    "lots": lambda uow, conn: SqlLotRepository(conn),
    "audit": lambda uow, conn: SqlLedgerAudit(conn),
    "users": lambda uow, conn: SqlUserRepository(conn),
    "events": lambda uow, conn: SqlEventLog(conn, uow._held),
    "refunds": lambda uow, conn: SqlRefundLog(conn),
    "referrals": lambda uow, conn: SqlReferralRepository(conn, uow._hints),
    "coupons": lambda uow, conn: SqlCouponRepository(conn),
    "subscriptions": lambda uow, conn: SqlSubscriptionRepository(conn),
    "customers": lambda uow, conn: SqlCustomerRepository(conn),
    "trials": lambda uow, conn: SqlTrialRepository(conn, uow._hints),
    "outbox": lambda uow, conn: SqlOutbox(conn, uow._held),
    "adjustments": lambda uow, conn: SqlAdjustmentLog(conn),
    "admin": lambda uow, conn: SqlAdminQueries(conn),
    "spending": lambda uow, conn: SqlSpendingLedger(conn, uow._hints),
    "holds": lambda uow, conn: SqlHoldRepository(conn),
    "spend_requests": lambda uow, conn: SqlSpendRequests(conn),
    "disputes": lambda uow, conn: SqlDisputeRepository(conn),
    "alerts": lambda uow, conn: SqlAlertRepository(conn, uow._hints),
    "auto_top_ups": lambda uow, conn: SqlAutoTopUpRepository(conn, uow._hints),
}
"""Each repository of ``UnitOfWork`` by its name, as the unit builds it."""


def uow_factory(engine: AsyncEngine, bus: MessageBus | None = None) -> UnitOfWorkFactory:
    """A zero-argument callable returning a fresh unit of work on ``engine``.

    ``bus``: the same-transaction follow-ups; by default the application's own.
    """
    follow = follow_ups() if bus is None else bus

    def make() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, follow)

    return make


def read_uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """Units of work for reads only: autocommit statements, no transaction around them.
    A connection is back in transactions when returned to the pool."""

    nothing = MessageBus()  # a read publishes no events

    def make() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, nothing, read_only=True)

    return make
