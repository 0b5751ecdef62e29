"""``deliver_events``: the envelope, its signatures, the retries, giving up."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest

from application.outbound.deliver_events import DeliveryPolicy
from application.outbound.public_types import PUBLIC_TYPES
from application.outbound.sender import Posted
from application.outbox import DeliveryStatus
from domain import events as domain_events
from domain.events import DomainEvent
from tests.unit.outbound.conftest import SECRETS, T0, Outbound, closed, redeemed


async def test_an_event_is_posted_as_its_envelope_signed_by_every_secret(
    outbound: Outbound,
) -> None:
    event = redeemed()
    await outbound.record(event)

    report = await outbound.deliver()

    assert report.ok and report.counts == {"delivered": 1}
    [(body, headers)] = outbound.endpoint.received
    assert outbound.endpoint.events() == [
        {
            "id": event.event_id,
            "type": "coupon.redeemed",
            "created": int(T0.timestamp()),
            "user_id": "u1",
            "data": dict(event.payload),
        }
    ]
    t, *v1 = headers["Creditline-Signature"].split(",")
    assert t == f"t={int(T0.timestamp())}"
    assert v1 == [
        "v1="
        + hmac.new(
            s.encode(), f"{int(T0.timestamp())}.".encode() + body, hashlib.sha256
        ).hexdigest()
        for s in SECRETS
    ]
    row = outbound.row(event)
    assert (row.status, row.attempts, row.last_status, row.delivered_at) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
        T0,
    )


async def test_a_closed_payment_is_told_as_payment_failed(outbound: Outbound) -> None:
    await outbound.record(closed())

    await outbound.deliver()

    [event] = outbound.endpoint.events()
    assert event["type"] == "payment.failed"
    assert event["data"]["status"] == "failed"


def test_every_domain_event_has_a_public_type() -> None:
    kinds = {
        k.type
        for k in vars(domain_events).values()
        if isinstance(k, type) and issubclass(k, DomainEvent) and k is not DomainEvent
    }

    assert kinds <= set(PUBLIC_TYPES)


async def test_a_failure_is_tried_again_after_the_backoff_and_keeps_what_happened(
    outbound: Outbound,
) -> None:
    event = redeemed()
    await outbound.record(event)
    outbound.endpoint.answers = [Posted(503), Posted(None, "ConnectError: refused")]

    first = await outbound.deliver()
    too_soon = await outbound.deliver()

    assert first.counts == {"retry_scheduled": 1} and not first.ok
    assert first.failures[0].error.startswith("the endpoint answered 503; next attempt at ")
    assert too_soon.counts == {} and too_soon.ok
    row = outbound.row(event)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        DeliveryStatus.PENDING,
        1,
        503,
        "the endpoint answered 503",
    )
    assert row.next_attempt_at == T0 + timedelta(seconds=22.5)  # 30 s, jitter 0.5
    assert row.leased_until is None

    outbound.clock.advance(timedelta(seconds=23))
    await outbound.deliver()
    row = outbound.row(event)
    assert (row.attempts, row.last_status, row.last_error) == (2, None, "ConnectError: refused")
    assert row.next_attempt_at == outbound.clock.now() + timedelta(seconds=45)

    outbound.clock.advance(timedelta(seconds=45))
    assert (await outbound.deliver()).counts == {"delivered": 1}
    ids = {e["id"] for e in outbound.endpoint.events()}
    assert ids == {event.event_id} and len(outbound.endpoint.received) == 3


async def test_an_exception_from_the_sender_is_a_failed_attempt_not_a_crash(
    outbound: Outbound,
) -> None:
    event = redeemed()
    await outbound.record(event, redeemed(coupon_id="cpn_2", at=T0 + timedelta(seconds=1)))
    outbound.endpoint.answers = [RuntimeError("boom")]

    report = await outbound.deliver()

    assert report.counts == {"retry_scheduled": 1, "delivered": 1}
    assert outbound.row(event).last_error == "RuntimeError: boom"


async def test_after_three_days_of_failures_the_event_is_given_up(outbound: Outbound) -> None:
    event = redeemed()
    await outbound.record(event)
    outbound.endpoint.answers = [Posted(500)] * 100

    given_up = 0
    while outbound.row(event).status is DeliveryStatus.PENDING:
        report = await outbound.deliver()
        given_up += report.counts["given_up"]
        due = outbound.row(event).next_attempt_at
        if due is not None:
            outbound.clock.advance(due - outbound.clock.now())

    row = outbound.row(event)
    assert row.status is DeliveryStatus.FAILED and given_up == 1
    assert row.first_attempt_at == T0 and row.next_attempt_at is None
    assert outbound.clock.now() == T0 + timedelta(days=3)
    assert row.attempts == len(outbound.endpoint.received)
    assert 22 <= row.attempts <= 34  # tests/unit/domain/test_retry_schedule.py
    assert report.failures[0].error == (
        f"the endpoint answered 500; given up after {row.attempts} attempts"
    )
    assert (await outbound.deliver()).counts == {}


@pytest.mark.parametrize("batch_size", [1, 2, 100])
async def test_every_due_event_is_posted_once_whatever_the_batch_size(
    outbound: Outbound, batch_size: int
) -> None:
    events = [redeemed(user_id=f"u{i}", at=T0 + timedelta(seconds=i)) for i in range(5)]
    await outbound.record(*events)

    report = await outbound.deliver(DeliveryPolicy(batch_size=batch_size, concurrency=2))

    assert report.counts == {"delivered": 5}
    assert [e["id"] for e in outbound.endpoint.events()] == [e.event_id for e in events]
