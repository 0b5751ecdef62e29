"""The unit of work on SQL: one connection, one transaction, every repository on it.

``async with uow:`` checks out a connection and begins (``BEGIN IMMEDIATE`` on
SQLite, see ``engine.py``); ``await uow.commit()`` commits; leaving the block without
committing rolls back, also after an exception. Repositories never commit.

Wiring: ``make_engine(url)`` once per process, then ``uow_factory(engine)`` is the
application's ``UnitOfWorkFactory``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.audit import SqlLedgerAudit
from adapters.sqlalchemy.coupons import SqlCouponRepository
from adapters.sqlalchemy.events import SqlEventLog, SqlRefundLog
from adapters.sqlalchemy.ledger import SqlLedgerRepository
from adapters.sqlalchemy.lots import SqlLotRepository
from adapters.sqlalchemy.payments import SqlPaymentRepository
from adapters.sqlalchemy.referrals import SqlReferralRepository
from adapters.sqlalchemy.trials import SqlTrialRepository
from adapters.sqlalchemy.users import SqlUserRepository
from application.ports import UnitOfWork, UnitOfWorkFactory


class SqlAlchemyUnitOfWork(UnitOfWork):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("a unit of work is not re-entrant; ask the factory for another")
        conn = await self._engine.connect()
        try:
            await conn.begin()
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        self.payments = SqlPaymentRepository(conn)
        self.ledger = SqlLedgerRepository(conn)
        self.lots = SqlLotRepository(conn)
        self.audit = SqlLedgerAudit(conn)
        self.users = SqlUserRepository(conn)
        self.events = SqlEventLog(conn)
        self.refunds = SqlRefundLog(conn)
        self.referrals = SqlReferralRepository(conn)
        self.coupons = SqlCouponRepository(conn)
        self.trials = SqlTrialRepository(conn)
        return self

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
        if self._conn is None:
            raise RuntimeError("commit() outside 'async with uow:'")
        await self._conn.commit()


def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """A zero-argument callable returning a fresh unit of work on ``engine``."""

    def make() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    return make
