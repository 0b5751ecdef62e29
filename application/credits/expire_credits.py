"""Expire the unspent part of grants past their ``expires_at``, once.

Each lot's expiry is keyed ``expiry:<lot>``, so a rerun, or two workers, expire it
once; only ``remaining`` is taken, so credits already spent never expire. The lots
API locks what it returns (``SKIP LOCKED`` on PostgreSQL), so parallel workers take
disjoint lots. A transaction expires one user's lots only (docs/ledger.md: a write
transaction touches one user), and commits them all or none, each recorded as a
``CreditsExpired`` event. A user whose expiry fails is skipped for the rest of the
run; the batch grows past their lots, so they never hide the lots that expire later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application.batch import BatchControl, JobReport
from application.ports import Clock, UnitOfWorkFactory
from domain.events import CreditsExpired
from domain.ledger import Lot, expiry_posting

log = logging.getLogger(__name__)

JOB = "expire-credits"


async def expire_credits(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    batch_size: int,
    control: BatchControl,
) -> JobReport:
    report = JobReport(JOB)
    failed_users: set[str] = set()
    limit = batch_size
    control.begin(None)
    while not control.stop_requested:
        now = clock.now()
        async with uow_factory() as uow:
            lots = await uow.lots.expired_lots(now, limit)
            mine = _first_user(lots, failed_users)
            if not mine and len(lots) < limit:
                return report
            if not mine:  # a full batch of failed users' lots: look past them
                limit += batch_size
                continue
            try:
                posted = [await uow.ledger.post(expiry_posting(lot), now) for lot in mine]
                for lot, entry in zip(mine, posted, strict=True):
                    if entry is not None:
                        uow.record(CreditsExpired.of(entry, lot.entry_id))
                await uow.commit()
            except Exception as exc:  # rolled back: the user's lots stay as they were
                failed_users.add(mine[0].user_id)
                report.fail(mine[0].user_id, exc)
                log.warning("credit_expiry_failed user_id=%s error=%r", mine[0].user_id, exc)
                continue
        expired = [lot for lot, entry in zip(mine, posted, strict=True) if entry is not None]
        report.counts["lots_expired"] += len(expired)
        report.counts["credits_expired"] += sum(lot.remaining for lot in expired)
        log.info("credits_expired user_id=%s lots=%s", mine[0].user_id, len(expired))
        control.advance(len(mine))
    report.interrupted = True
    return report


def _first_user(lots: Sequence[Lot], skip: set[str]) -> list[Lot]:
    """The lots of the first user in ``lots`` who has not failed in this run."""
    user = next((lot.user_id for lot in lots if lot.user_id not in skip), None)
    return [lot for lot in lots if lot.user_id == user]
