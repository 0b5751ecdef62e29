"""Metrics count what committed: observers hear a unit of work's events only after it
committed, never work that rolled back; labels stay bounded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from adapters.memory.uow import MemoryStore
from adapters.metrics.prometheus import PrometheusMetrics
from application.bootstrap import follow_ups
from application.ports import UnitOfWork
from domain.events import CreditsGranted, DomainEvent, TrialStarted
from domain.ledger import EntryKind

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def granted(credits: int) -> CreditsGranted:
    return CreditsGranted(
        user_id="u1", occurred_at=NOW, credits=credits, kind=EntryKind.PURCHASE,
        reference_type="payment", reference_id="p1", entry_id=1, balance_after=credits,
        expires_at=None, idempotency_key=f"k{credits}",
    )  # fmt: skip


class Boom(Exception):
    pass


async def refuse(uow: UnitOfWork, event: TrialStarted, now: datetime) -> None:
    raise Boom


def counted_store() -> tuple[MemoryStore, PrometheusMetrics]:
    metrics = PrometheusMetrics()
    bus = follow_ups().on(TrialStarted, refuse).after_commit(metrics.events_committed)
    return MemoryStore(bus), metrics


def granted_credits(metrics: PrometheusMetrics) -> float:
    value = metrics.registry.get_sample_value(
        "creditline_credits_granted_total", {"kind": "purchase"}
    )
    return value or 0.0


async def test_committed_grants_are_counted() -> None:
    store, metrics = counted_store()
    async with store.uow() as uow:
        uow.record(granted(700))
        await uow.commit()
    assert granted_credits(metrics) == 700


async def test_work_left_uncommitted_is_not_counted() -> None:
    store, metrics = counted_store()
    with pytest.raises(Boom):
        async with store.uow() as uow:
            uow.record(granted(700))
            raise Boom
    assert granted_credits(metrics) == 0


async def test_a_commit_that_fails_counts_nothing() -> None:
    store, metrics = counted_store()
    with pytest.raises(Boom):
        async with store.uow() as uow:
            uow.record(granted(700))
            uow.record(TrialStarted(user_id="u1", occurred_at=NOW, credits=5, expires_at=NOW))
            await uow.commit()
    assert granted_credits(metrics) == 0
    assert store.state.copy() is not None


async def test_a_failing_observer_does_not_undo_the_commit() -> None:
    seen: list[Sequence[DomainEvent]] = []

    def broken(events: Sequence[DomainEvent]) -> None:
        raise Boom

    store = MemoryStore(follow_ups().after_commit(broken, seen.append))
    async with store.uow() as uow:
        uow.record(granted(5))
        await uow.commit()
    assert [len(events) for events in seen] == [1]


def test_unknown_and_overlong_event_types_count_as_other() -> None:
    metrics = PrometheusMetrics(known_types={"charge.refunded", "y" * 101})
    metrics.webhook_handled("charge.refunded", "no_change")
    metrics.webhook_handled("z" * 300, "ignored_unhandled_type")
    metrics.webhook_handled("y" * 101, "ignored_unhandled_type")
    metrics.webhook_handled(None, "refused")
    sample = metrics.registry.get_sample_value
    assert sample("creditline_webhook_events_total", {"type": "charge.refunded",
                                                      "outcome": "no_change"}) == 1  # fmt: skip
    other = {"type": "other", "outcome": "ignored_unhandled_type"}
    assert sample("creditline_webhook_events_total", other) == 2
    assert sample("creditline_webhook_events_total", {"type": "other", "outcome": "refused"}) == 1


def test_status_codes_count_by_class() -> None:
    metrics = PrometheusMetrics()
    metrics.request_served("/health", "GET", 204, 0.01)
    metrics.request_served("/health", "GET", 429, 0.01)
    sample = metrics.registry.get_sample_value
    count = "creditline_http_request_duration_seconds_count"
    assert sample(count, {"route": "/health", "method": "GET", "status": "2xx"}) == 1
    assert sample(count, {"route": "/health", "method": "GET", "status": "4xx"}) == 1
