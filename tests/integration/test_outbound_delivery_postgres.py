"""Outbound delivery over real HTTP (httpx to a receiver on 127.0.0.1) from PostgreSQL.

A receiver that fails the first posts of every event still gets each one, and each
post carries a signature the README's snippet accepts; two deliverers working the same
outbox at once never post one event twice at the same time (nor twice at all, when
every post succeeds first time).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import SystemClock
from adapters.outbound.httpx_sender import HttpxSender
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.batch import JobReport, NoControl
from application.outbound.deliver_events import DeliveryPolicy, deliver_events
from application.ports import UnitOfWorkFactory
from domain.events import CouponRedeemed
from domain.outbound import RetrySchedule
from tests.e2e.outbound_verify_snippet import verify
from tests.outbound_receiver import OutboundReceiver

pytestmark = pytest.mark.postgres

SECRETS = ("whsec_out_new_0123456789abcdef", "whsec_out_old_0123456789abcdef")
FAST = RetrySchedule(base=timedelta(milliseconds=20), cap=timedelta(milliseconds=100))


@pytest.fixture
async def uows(empty_pg_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = make_engine(empty_pg_url)
    yield uow_factory(engine)
    await engine.dispose()


async def record_events(uows: UnitOfWorkFactory, count: int) -> list[str]:
    now = datetime.now(UTC)
    events = [
        CouponRedeemed(
            user_id=f"u{i % 7}",
            occurred_at=now,
            coupon_id=f"cpn_{i}",
            code="WELCOME",
            redemption_id=f"red_{i}",
            credits=100,
            credits_expire_at=None,
        )
        for i in range(count)
    ]
    async with uows() as uow:
        for event in events:
            uow.record(event)
        await uow.commit()
    return [e.event_id for e in events]


async def deliver(
    uows: UnitOfWorkFactory, sender: HttpxSender, policy: DeliveryPolicy
) -> JobReport:
    return await deliver_events(
        uow_factory=uows,
        sender=sender,
        secrets=SECRETS,
        clock=SystemClock(),
        jitter=lambda: 0.5,
        policy=policy,
        control=NoControl(),
    )


async def test_a_failing_receiver_still_gets_every_event_once_with_valid_signatures(
    uows: UnitOfWorkFactory,
) -> None:
    ids = await record_events(uows, 40)
    async with OutboundReceiver(fail_first=2) as receiver:
        sender = HttpxSender(receiver.url)
        retries = 0
        async with asyncio.timeout(30):
            while len(receiver.delivered()) < len(ids):
                report = await deliver(uows, sender, DeliveryPolicy(schedule=FAST))
                retries += report.counts["retry_scheduled"]
                await asyncio.sleep(0.05)
        await sender.aclose()

    assert sorted(receiver.delivered()) == sorted(ids)
    assert receiver.tries == Counter({event_id: 3 for event_id in ids})
    assert retries == 2 * len(ids)
    assert all(verify(p.body, p.signature, [SECRETS[1]]) for p in receiver.posts)
    assert not any(
        verify(p.body, p.signature, ["whsec_someone_else_0123456"]) for p in receiver.posts
    )
    async with uows() as uow:
        assert list(await uow.outbox.pending(10)) == []


async def test_two_deliverers_at_once_never_post_an_event_twice(empty_pg_url: str) -> None:
    engines = [make_engine(empty_pg_url) for _ in range(2)]
    workers = [uow_factory(engine) for engine in engines]
    ids = await record_events(workers[0], 300)
    policy = DeliveryPolicy(batch_size=25, concurrency=8)
    async with OutboundReceiver(delay=0.005) as receiver:
        senders = [HttpxSender(receiver.url) for _ in workers]
        started = time.monotonic()
        reports = await asyncio.gather(
            *(deliver(w, s, policy) for w, s in zip(workers, senders, strict=True))
        )
        seconds = time.monotonic() - started
        for sender in senders:
            await sender.aclose()
    for engine in engines:
        await engine.dispose()

    assert receiver.overlaps == 0
    assert receiver.tries == Counter({event_id: 1 for event_id in ids})
    assert all(r.counts["delivered"] > 0 for r in reports)  # both took a share
    assert sum(r.counts["delivered"] for r in reports) == len(ids)
    print(f"\ntwo deliverers: {len(ids)} events in {seconds:.2f} s = {len(ids) / seconds:.0f}/s")
