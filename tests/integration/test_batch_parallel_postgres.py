"""Two ``expire-sessions`` workers in parallel on PostgreSQL: each payment settled once.

10,000 stale Checkout payments are seeded in bulk (one in a hundred paid at the gateway
with its webhooks lost); two workers, each with its own connection pool, sweep them at
the same time. ``FOR UPDATE SKIP LOCKED`` and the lease must give every payment to
exactly one worker: the gateway sees each session asked about once and expired at most
once, and the ledger grants each paid one once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.batch import NoControl
from application.purchases.gateway import CheckoutState
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from benchmarks.batch_expire import seed_stale_sessions

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SESSIONS = 10_000
USERS = 100
PAID_EVERY = 100


class CountingGateway(MemoryGateway):
    def __init__(self, clock: FixedClock) -> None:
        super().__init__(clock.now)
        self.looked_up: Counter[str] = Counter()
        self.expired: Counter[str] = Counter()

    async def get_checkout(self, session_id: str) -> CheckoutState:
        self.looked_up[session_id] += 1
        return await super().get_checkout(session_id)

    async def expire_checkout(self, session_id: str, *, deliver: str = "now") -> CheckoutState:
        self.expired[session_id] += 1
        return await super().expire_checkout(session_id, deliver="never")


async def test_two_workers_settle_ten_thousand_stale_sessions_exactly_once(
    empty_pg_url: str,
) -> None:
    clock = FixedClock(T0)
    gateway = CountingGateway(clock)
    paid = await seed_stale_sessions(empty_pg_url, gateway, T0, SESSIONS, PAID_EVERY)
    clock.advance(timedelta(hours=2))
    engines = [make_engine(empty_pg_url) for _ in range(2)]
    policy = SweepPolicy(intent_ttl=timedelta(hours=24), batch_size=200, concurrency=4)
    try:
        reports = await asyncio.gather(
            *(
                expire_stale_sessions(
                    uow_factory=uow_factory(engine),
                    gateway=gateway,
                    clock=clock,
                    policy=policy,
                    control=NoControl(),
                )
                for engine in engines
            )
        )
        async with uow_factory(engines[0])() as uow:
            mismatches = await uow.audit.verify()
            balances = [(await uow.ledger.account(f"usr_{n:03d}")) for n in range(USERS)]
    finally:
        for engine in engines:
            await engine.dispose()

    total = reports[0].counts + reports[1].counts
    assert total == {"expired": SESSIONS - len(paid), "fulfilled": len(paid)}
    assert all(report.ok and sum(report.counts.values()) > 0 for report in reports)
    assert len(gateway.looked_up) == SESSIONS and set(gateway.looked_up.values()) == {1}
    assert len(gateway.expired) == SESSIONS - len(paid)
    assert set(gateway.expired.values()) == {1}
    assert mismatches == []
    assert sum(account.balance for account in balances if account) == len(paid) * 1000
