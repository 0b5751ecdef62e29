"""The outbox's delivery side on every adapter (memory, SQLite, PostgreSQL): leases,
settled attempts, the admin list and redelivery, through the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.outbound.admin import list_outbound_events, redeliver_outbound_event
from application.outbox import DeliveryOutcome, DeliveryStatus, OutboxMessage
from application.ports import UnitOfWorkFactory
from domain.errors import OutboundEventNotFound
from domain.events import CouponRedeemed, DomainEvent, PaymentClosed

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uows(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    )
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


def redeemed(user_id: str, seconds: int = 0) -> CouponRedeemed:
    return CouponRedeemed(
        user_id=user_id,
        occurred_at=NOW + timedelta(seconds=seconds),
        coupon_id=f"cpn_{seconds}",
        code="WELCOME",
        redemption_id=f"red_{seconds}_{user_id}",
        credits=500,
        credits_expire_at=None,
    )


def closed(user_id: str, seconds: int = 0) -> PaymentClosed:
    at = NOW + timedelta(seconds=seconds)
    return PaymentClosed(
        user_id=user_id, occurred_at=at, payment_id="p", status="failed", reason=None
    )


async def record(uows: UnitOfWorkFactory, *events: DomainEvent) -> None:
    async with uows() as uow:
        for event in events:
            uow.record(event)
        await uow.commit()


async def claim(uows: UnitOfWorkFactory, now: datetime = NOW, limit: int = 10) -> list[str]:
    async with uows() as uow:
        claimed = await uow.outbox.claim_due(now, now + timedelta(minutes=5), limit)
        await uow.commit()
    return [m.event_id for m in claimed]


async def settle(uows: UnitOfWorkFactory, *outcomes: DeliveryOutcome) -> None:
    async with uows() as uow:
        await uow.outbox.settle(outcomes)
        await uow.commit()


async def find(uows: UnitOfWorkFactory, event: DomainEvent) -> OutboxMessage:
    async with uows() as uow:
        found = await uow.outbox.find(event.event_id)
    assert found is not None
    return found


def failed_at(event: DomainEvent, at: datetime, retry_at: datetime | None) -> DeliveryOutcome:
    status = DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED
    return DeliveryOutcome(event.event_id, status, at, 502, "bad gateway", retry_at)


async def test_a_claim_leases_due_rows_oldest_first_and_a_second_claim_skips_them(
    uows: UnitOfWorkFactory,
) -> None:
    events = [redeemed("u1", 2), redeemed("u2", 1), redeemed("u3", 3)]
    await record(uows, *events)

    first = await claim(uows, limit=2)
    second = await claim(uows)
    after_lease = await claim(uows, now=LEASE)

    assert first == [events[1].event_id, events[0].event_id]
    assert second == [events[2].event_id]
    assert after_lease == [events[1].event_id, events[0].event_id, events[2].event_id]
    assert (await find(uows, events[1])).leased_until == LEASE + timedelta(minutes=5)


async def test_settled_attempts_end_the_lease_and_are_kept_on_the_row(
    uows: UnitOfWorkFactory,
) -> None:
    ok, retry, dead = redeemed("u1", 1), redeemed("u2", 2), redeemed("u3", 3)
    await record(uows, ok, retry, dead)
    await claim(uows)
    later = NOW + timedelta(seconds=30)

    await settle(
        uows,
        DeliveryOutcome(ok.event_id, DeliveryStatus.DELIVERED, NOW, 204, None, None),
        failed_at(retry, NOW, later),
        failed_at(dead, NOW, None),
    )

    delivered, waiting, given_up = [await find(uows, e) for e in (ok, retry, dead)]
    assert (delivered.status, delivered.attempts, delivered.last_status) == (
        DeliveryStatus.DELIVERED,
        1,
        204,
    )
    assert delivered.delivered_at == NOW and delivered.leased_until is None
    assert (waiting.status, waiting.attempts, waiting.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "bad gateway",
    )
    assert waiting.next_attempt_at == later and waiting.first_attempt_at == NOW
    assert given_up.status is DeliveryStatus.FAILED and given_up.delivered_at is None
    assert await claim(uows) == []
    assert await claim(uows, now=later) == [retry.event_id]

    await settle(uows, failed_at(retry, later, later + timedelta(minutes=1)))

    again = await find(uows, retry)
    assert (again.attempts, again.first_attempt_at) == (2, NOW)


async def test_the_admin_list_filters_by_status_public_type_and_user_newest_first(
    uows: UnitOfWorkFactory,
) -> None:
    events = [redeemed("u1", 1), closed("u1", 2), redeemed("u2", 3), closed("u2", 4)]
    await record(uows, *events)
    await claim(uows)
    await settle(uows, failed_at(events[3], NOW, None))

    async def ids(
        status: DeliveryStatus | None = None,
        public_type: str | None = None,
        user_id: str | None = None,
    ) -> list[str]:
        page = await list_outbound_events(
            status, public_type, user_id, None, None, uow_factory=uows
        )
        return [m.event_id for m in page.items]

    every = [e.event_id for e in reversed(events)]
    assert await ids() == every
    assert await ids(public_type="payment.failed") == [every[0], every[2]]
    assert await ids(public_type="payment.closed") == []
    assert await ids(user_id="u1") == [every[2], every[3]]
    assert await ids(status=DeliveryStatus.FAILED) == [every[0]]
    assert await ids(status=DeliveryStatus.PENDING, public_type="coupon.redeemed") == [
        every[1],
        every[3],
    ]


async def test_the_admin_list_pages_by_cursor(uows: UnitOfWorkFactory) -> None:
    events = [redeemed(f"u{i}", i) for i in range(5)]
    await record(uows, *events)

    seen: list[str] = []
    cursor = None
    while True:
        page = await list_outbound_events(None, None, None, 2, cursor, uow_factory=uows)
        seen += [m.event_id for m in page.items]
        if (cursor := page.next_cursor) is None:
            break

    assert seen == [e.event_id for e in reversed(events)]


async def test_redelivery_makes_a_given_up_event_due_now_with_a_fresh_window(
    uows: UnitOfWorkFactory,
) -> None:
    event = redeemed("u1")
    await record(uows, event)
    await claim(uows)
    await settle(uows, failed_at(event, NOW, None))
    clock = FixedClock(NOW + timedelta(days=4))

    again = await redeliver_outbound_event(event.event_id, uow_factory=uows, clock=clock)

    assert (again.status, again.attempts, again.next_attempt_at) == (
        DeliveryStatus.PENDING,
        0,
        clock.now(),
    )
    assert again.first_attempt_at is None and again.last_status == 502
    assert await find(uows, event) == again
    assert await claim(uows, now=clock.now()) == [event.event_id]


async def test_redelivery_keeps_a_lease_in_force(uows: UnitOfWorkFactory) -> None:
    event = redeemed("u1")
    await record(uows, event)
    await claim(uows)

    await redeliver_outbound_event(event.event_id, uow_factory=uows, clock=FixedClock(NOW))

    assert await claim(uows) == []
    assert await claim(uows, now=LEASE) == [event.event_id]


async def test_redelivering_an_unknown_event_is_not_found(uows: UnitOfWorkFactory) -> None:
    with pytest.raises(OutboundEventNotFound):
        await redeliver_outbound_event("evt_missing", uow_factory=uows, clock=FixedClock(NOW))
