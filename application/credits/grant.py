"""Posting a grant, and recording that it happened."""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from domain.events import CreditsGranted
from domain.ledger import LedgerEntry, Posting


async def grant(uow: UnitOfWork, posting: Posting, now: datetime) -> LedgerEntry | None:
    """Post ``posting`` (a grant); a new entry is recorded as ``CreditsGranted``.

    None when its idempotency key was used before: the credits were granted, and
    recorded, by the transaction that used it.
    """
    entry = await uow.ledger.post(posting, now)
    if entry is not None:
        uow.record(CreditsGranted.of(entry))
    return entry
