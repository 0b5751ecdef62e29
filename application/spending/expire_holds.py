"""``creditline batch expire-holds``: end holds past their expiry, in bulk.

Holds already stop holding when their account is next touched; this job frees them
for accounts nobody touches, and records each as ``hold.ended`` (expired). Holds and
their accounts are claimed ``SKIP LOCKED``, so workers never wait on each other or
on a debit; a transaction ends one user's holds (docs/ledger.md: one user per write).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application.batch import BatchControl, JobReport
from application.ports import Clock, UnitOfWorkFactory
from application.spending.expiry import end_expired
from domain.holds import Hold

log = logging.getLogger(__name__)

JOB = "expire-holds"


async def expire_holds(
    *, uow_factory: UnitOfWorkFactory, clock: Clock, batch_size: int, control: BatchControl
) -> JobReport:
    report = JobReport(JOB)
    failed: set[str] = set()
    control.begin(None)
    while not control.stop_requested:
        now = clock.now()
        async with uow_factory() as uow:
            mine = _first_user(await uow.holds.claim_expired(now, batch_size), failed)
            if not mine:
                return report
            try:
                await end_expired(uow, mine[0].user_id, mine, now)
                await uow.commit()
            except Exception as exc:  # rolled back: the holds stay for the next run
                failed.add(mine[0].user_id)
                report.fail(mine[0].user_id, exc)
                log.warning("hold_expiry_failed user_id=%s error=%r", mine[0].user_id, exc)
                continue
        report.counts["holds_expired"] += len(mine)
        report.counts["credits_released"] += sum(hold.credits for hold in mine)
        control.advance(len(mine))
    report.interrupted = True
    return report


def _first_user(holds: Sequence[Hold], skip: set[str]) -> list[Hold]:
    user = next((hold.user_id for hold in holds if hold.user_id not in skip), None)
    return [hold for hold in holds if hold.user_id == user]
