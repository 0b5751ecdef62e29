"""Deliver the outbox to the product: at least once, retried for up to three days.

Due rows are leased in batches by one short transaction (``claim_due``); each is posted
outside any transaction, at most ``concurrency`` at once; the attempts are then settled
together in a second short transaction. A 2xx ends an event's delivery; anything else
schedules the next attempt (``domain.outbound.RetrySchedule``) or, once the three days
are over, gives the event up (``failed``). A crash between the steps is harmless: the
lease runs out and the events are posted again, which at-least-once allows (receivers
de-duplicate on the event id, the same on every attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.batch import BatchControl, JobReport, bounded, describe
from application.outbound.envelope import SIGNATURE_HEADER, envelope, signature
from application.outbound.sender import OutboundSender, Posted
from application.outbox import DeliveryOutcome, DeliveryStatus, OutboxMessage
from application.ports import Clock, UnitOfWorkFactory
from domain.outbound import RetrySchedule

log = logging.getLogger(__name__)

JOB = "deliver-events"
MAX_ERROR = 500  # characters of an error kept on the row
# Longer than a batch can take when every post times out (batch / concurrency * timeout).
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    batch_size: int = 100
    concurrency: int = 8
    lease: timedelta = DEFAULT_LEASE


async def deliver_events(
    *,
    uow_factory: UnitOfWorkFactory,
    sender: OutboundSender,
    secrets: Sequence[str],
    clock: Clock,
    jitter: Callable[[], float],
    policy: DeliveryPolicy,
    control: BatchControl,
) -> JobReport:
    """``jitter`` returns a number in [0, 1) for each retry (``random.random``)."""
    report = JobReport(JOB)

    async def post(message: OutboxMessage) -> Posted:
        body = envelope(message)
        header = signature(body, secrets, int(clock.now().timestamp()))
        return await sender.post(body, {SIGNATURE_HEADER: header})

    control.begin(None)
    while not control.stop_requested:
        now = clock.now()
        async with uow_factory() as uow:
            claimed = await uow.outbox.claim_due(now, now + policy.lease, policy.batch_size)
            await uow.commit()
        if not claimed:
            return report
        results = await bounded(claimed, post, policy.concurrency)
        done = clock.now()
        outcomes = [
            _outcome(message, result, done, policy.schedule, jitter)
            for message, result in zip(claimed, results, strict=True)
        ]
        async with uow_factory() as uow:
            await uow.outbox.settle(outcomes)
            await uow.commit()
        for message, outcome in zip(claimed, outcomes, strict=True):
            _tally(report, message, outcome)
        control.advance(len(claimed))
    report.interrupted = True
    return report


def _outcome(
    message: OutboxMessage,
    result: Posted | BaseException,
    now: datetime,
    schedule: RetrySchedule,
    jitter: Callable[[], float],
) -> DeliveryOutcome:
    if isinstance(result, BaseException) and not isinstance(result, Exception):
        raise result
    posted = Posted(None, describe(result)) if isinstance(result, Exception) else result
    if posted.accepted:
        return DeliveryOutcome(
            message.event_id, DeliveryStatus.DELIVERED, now, posted.status, None, None
        )
    error = (posted.error or f"the endpoint answered {posted.status}")[:MAX_ERROR]
    failures = message.attempts + 1
    started = message.first_attempt_at or now
    at = schedule.next_attempt(failures, started, now, jitter())
    status = DeliveryStatus.FAILED if at is None else DeliveryStatus.PENDING
    return DeliveryOutcome(message.event_id, status, now, posted.status, error, at)


def _tally(report: JobReport, message: OutboxMessage, outcome: DeliveryOutcome) -> None:
    attempt = message.attempts + 1
    if outcome.status is DeliveryStatus.DELIVERED:
        report.counts["delivered"] += 1
        log.info("outbound_delivered event_id=%s attempt=%s", message.event_id, attempt)
        return
    if outcome.status is DeliveryStatus.PENDING:
        report.counts["retry_scheduled"] += 1
        assert outcome.next_attempt_at is not None
        tail = f"next attempt at {outcome.next_attempt_at.isoformat()}"
    else:
        report.counts["given_up"] += 1
        tail = f"given up after {attempt} attempts"
    report.fail(message.event_id, f"{outcome.last_error}; {tail}")
    log.warning(
        "outbound_failed event_id=%s attempt=%s status=%s error=%s",
        message.event_id,
        attempt,
        outcome.last_status,
        outcome.last_error,
    )
