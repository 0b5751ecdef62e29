"""Posting a reversal (a refund's, a lost dispute's, a referral bonus's), and recording
that it happened.

Every reversal lowers the balance, so its ``CreditsReversed`` event is one of those
whose follow-up decides the balance alerts and the auto top-up in the same transaction
(``application.bootstrap``).
"""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from domain.events import CreditsReversed
from domain.ledger import LedgerEntry, Posting


async def reverse(uow: UnitOfWork, posting: Posting, now: datetime) -> LedgerEntry | None:
    """Post ``posting`` (a reversal); a new entry is recorded as ``CreditsReversed``.

    None when its idempotency key was used before: the credits were taken back, and
    recorded, by the transaction that used it.
    """
    entry = await uow.ledger.post(posting, now)
    if entry is not None:
        uow.record(CreditsReversed.of(entry))
    return entry
