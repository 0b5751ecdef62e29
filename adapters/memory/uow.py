"""The in-memory unit of work: the fake of the SQL adapter used by unit tests.

Usage::

    store = MemoryStore()
    factory = store.uow_factory              # == store.uow: a fresh uow per call
    async with store.uow() as uow:
        await uow.ledger.open_account("u1")
        await uow.commit()
    store.state.accounts["u1"]               # committed data, for assertions

A unit of work holds the store's ``asyncio.Lock`` from ``async with`` to its end, so
concurrent units of work take turns as SQLite's ``BEGIN IMMEDIATE`` makes them; it
works on a copy of the state and publishes it on ``commit()``, so leaving without
committing (or raising) discards everything. Create one store per test: the lock
belongs to the event loop that first waits on it.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from adapters.memory.adjustments import MemoryAdjustmentLog
from adapters.memory.admin import MemoryAdminQueries
from adapters.memory.audit import MemoryLedgerAudit
from adapters.memory.coupons import MemoryCouponRepository
from adapters.memory.events import MemoryEventLog, MemoryRefundLog
from adapters.memory.ledger import MemoryLedgerRepository
from adapters.memory.lots import MemoryLotRepository
from adapters.memory.outbox import MemoryOutbox
from adapters.memory.referrals import MemoryReferralRepository
from adapters.memory.repositories import MemoryPaymentRepository, MemoryUserRepository
from adapters.memory.spending import (
    MemoryDisputeRepository,
    MemoryHoldRepository,
    MemorySpendingLedger,
    MemorySpendRequests,
)
from adapters.memory.state import MemoryState
from adapters.memory.subscriptions import MemoryCustomerRepository, MemorySubscriptionRepository
from adapters.memory.trials import MemoryTrialRepository
from application.bootstrap import follow_ups
from application.messagebus import MessageBus, NewEvents, SeenPayments
from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.events import DomainEvent


class MemoryStore:
    """``bus``: the same-transaction follow-ups; by default the application's own."""

    def __init__(self, bus: MessageBus | None = None) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()
        self.bus = follow_ups() if bus is None else bus

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """``store.uow``, typed as the port, for the container and use-case tests."""
        return self.uow


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._work: MemoryState | None = None
        self._new = NewEvents()

    async def __aenter__(self) -> Self:
        if self._work is not None:
            raise RuntimeError("a unit of work is not re-entrant; ask the factory for another")
        await self._store.lock.acquire()
        work = self._work = self._store.state.copy()
        self._new = NewEvents()
        self.payments = SeenPayments(MemoryPaymentRepository(work), self._new)
        self.ledger = MemoryLedgerRepository(work)
        self.lots = MemoryLotRepository(work)
        self.audit = MemoryLedgerAudit(work)
        self.users = MemoryUserRepository(work)
        self.events = MemoryEventLog(work)
        self.refunds = MemoryRefundLog(work)
        self.referrals = MemoryReferralRepository(work)
        self.coupons = MemoryCouponRepository(work)
        self.trials = MemoryTrialRepository(work)
        self.outbox = MemoryOutbox(work)
        self.adjustments = MemoryAdjustmentLog(work)
        self.admin = MemoryAdminQueries(work)
        self.subscriptions = MemorySubscriptionRepository(work.subscriptions)
        self.customers = MemoryCustomerRepository(work.subscriptions)
        self.spending = MemorySpendingLedger(work)
        self.holds = MemoryHoldRepository(work)
        self.spend_requests = MemorySpendRequests(work)
        self.disputes = MemoryDisputeRepository(work)
        return self

    def record(self, event: DomainEvent) -> None:
        self._new.record(event)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._work is not None:
            self._work = None
            self._store.lock.release()

    async def commit(self) -> None:
        """Publish the new events, then a snapshot; the repositories keep working on the
        (now equal) copy."""
        if self._work is None:
            raise RuntimeError("commit() outside 'async with uow:'")
        published = await self._store.bus.publish(self, self._new)
        self._store.state = self._work.copy()
        self._store.bus.committed(published)
