"""Make the ledger converge to what the gateway knows, for a window of its events.

First every event of the window goes through the webhook's own handler, oldest
first: one already processed is a no-op (its id is claimed), one whose webhook was
lost is applied now, and one that is not ready (a refund seen before its payment) is
retried after the rest. Then the gateway's paid payments and refunds are compared
with the ledger, and the differences ("drift") reported; ``repair`` fixes those that
the ordinary paths can fix safely. A second run finds nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from application.batch import BatchControl, JobReport, NoControl
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.gateway import CheckoutGateway
from application.reconciliation.drift import Drift, gateway_view, grant_drift, refund_drift
from application.reconciliation.extra_grants import extra_grants
from application.reconciliation.invoice_drift import invoice_drift, repair_invoice
from application.reconciliation.repair_drift import repair
from application.webhooks.events import GatewayEvent
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventNotReady, EventOutcome

log = logging.getLogger(__name__)

JOB = "reconcile"
RETRY_ROUNDS = 3
# How the summary counts what the handler did with each replayed event.
_COUNTED_AS = {
    EventOutcome.DUPLICATE: "already_processed",
    EventOutcome.NOT_OURS: "ignored",
    EventOutcome.UNHANDLED: "ignored",
    EventOutcome.WAITING: "waiting",
    EventOutcome.REJECTED: "rejected",
}


class ReconcileGateway(WebhookGateway, CheckoutGateway, Protocol):
    """The window's events, replayed as webhooks are, then each payment asked about."""


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    since: timedelta
    repair: bool = False
    batch_size: int = 100


@dataclass(frozen=True, slots=True)
class _Ports:
    uow_factory: UnitOfWorkFactory
    gateway: ReconcileGateway
    clock: Clock


async def reconcile(
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: ReconcileGateway,
    clock: Clock,
    policy: ReconcilePolicy,
    control: BatchControl,
) -> JobReport:
    ports = _Ports(uow_factory, gateway, clock)
    report = JobReport(JOB)
    since = clock.now() - policy.since
    events = await gateway.list_events(since)
    report.counts["events"] = len(events)
    control.begin(len(events))
    not_ready = await _replay(events, ports, policy.batch_size, control, report)
    if control.stop_requested:
        report.interrupted = True
        return report
    for _ in range(RETRY_ROUNDS):
        still = await _replay(not_ready, ports, len(not_ready) or 1, NoControl(), report)
        if len(still) == len(not_ready):
            break  # no progress: what is left waits for events outside the window
        not_ready = still
    for event in not_ready:
        report.fail(event.event_id, f"not_ready: {event.type} still cannot be applied")
    view = await gateway_view(events, uow_factory)
    drift = await grant_drift(view, uow_factory)
    drift += await refund_drift(view, uow_factory, gateway, report)
    drift += await extra_grants(view, since, uow_factory, gateway, report)
    for item in drift:
        repaired = await repair(item, uow_factory, clock, JOB) if policy.repair else None
        _record(report, item, repaired)
    for item in await invoice_drift(events, uow_factory):
        repaired = (
            await repair_invoice(item, uow_factory, gateway, clock) if policy.repair else None
        )
        _record(report, item, repaired)
    return report


async def _replay(
    events: Sequence[GatewayEvent],
    ports: _Ports,
    batch_size: int,
    control: BatchControl,
    report: JobReport,
) -> list[GatewayEvent]:
    """Apply events in batches; returns those not ready yet. Stops between batches."""
    deferred: list[GatewayEvent] = []
    for start in range(0, len(events), batch_size):
        if control.stop_requested:
            break
        batch = events[start : start + batch_size]
        for event in batch:
            try:
                outcome = await handle_gateway_event(
                    event, uow_factory=ports.uow_factory, gateway=ports.gateway, clock=ports.clock
                )
            except EventNotReady:
                deferred.append(event)
                continue
            except Exception as exc:
                report.fail(event.event_id, exc)
                log.warning("reconcile_event_failed event_id=%s error=%r", event.event_id, exc)
                continue
            report.counts[_COUNTED_AS.get(outcome, outcome.value)] += 1
        control.advance(len(batch))
    return deferred


def _record(report: JobReport, drift: Drift, repaired: str | None) -> None:
    report.counts[f"drift_{drift.kind}"] += 1
    report.details.append(
        {"kind": drift.kind.value, "payment_id": drift.payment_id, "detail": drift.detail}
        | ({"repaired": repaired} if repaired else {})
    )
    if repaired:
        report.counts["repaired"] += 1
        log.info(
            "drift_repaired payment_id=%s kind=%s did=%s", drift.payment_id, drift.kind, repaired
        )
    else:
        report.fail(drift.payment_id, f"{drift.kind}: {drift.detail}")
        log.warning(
            "drift_found payment_id=%s kind=%s detail=%s",
            drift.payment_id,
            drift.kind,
            drift.detail,
        )
