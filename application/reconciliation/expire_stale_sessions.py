"""Settle open payments that outlived their time: the missed-webhook safety net.

A Checkout Session past ``expires_at`` or a PaymentIntent older than its TTL is asked
about at the gateway first. Paid after all (its webhook was lost): fulfilled through
the exactly-once path. Otherwise it is closed at the gateway and then here.

Rows are leased in batches by one short transaction (``claim_stale``); the gateway is
called outside any transaction; each payment then changes in its own transaction. A
crash between the steps is harmless: the lease runs out, the next run asks the
gateway again, and closing or fulfilling twice is a no-op at both ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.batch import BatchControl, JobReport, bounded
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.gateway import PurchaseGateway
from application.reconciliation.settle_stale_payment import SOURCE, Settled, StalePaymentSettler

log = logging.getLogger(__name__)

JOB = SOURCE
# Longer than a batch can take with a slow gateway; if it ever runs out mid-item, the
# item is settled twice, which is harmless (see the module docstring).
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SweepPolicy:
    intent_ttl: timedelta
    batch_size: int = 100
    concurrency: int = 4
    lease: timedelta = DEFAULT_LEASE


async def expire_stale_sessions(
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PurchaseGateway,
    clock: Clock,
    policy: SweepPolicy,
    control: BatchControl,
) -> JobReport:
    report = JobReport(JOB)
    settler = StalePaymentSettler(uow_factory, gateway, clock)
    control.begin(None)
    while not control.stop_requested:
        now = clock.now()
        async with uow_factory() as uow:
            claimed = await uow.payments.claim_stale(
                now, now - policy.intent_ttl, now + policy.lease, policy.batch_size
            )
            await uow.commit()
        if not claimed:
            return report
        results = await bounded(claimed, settler.settle, policy.concurrency)
        for payment, result in zip(claimed, results, strict=True):
            if isinstance(result, Settled):
                report.counts[result.value] += 1
                log.info("sweep_settled payment_id=%s outcome=%s", payment.id, result)
            elif isinstance(result, Exception):
                report.fail(payment.id, result)
                log.warning("sweep_failed payment_id=%s error=%r", payment.id, result)
            else:
                raise result
        control.advance(len(claimed))
    report.interrupted = True
    return report
