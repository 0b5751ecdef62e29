"""Finding and locking a hold to end it: the account first, then the hold.

The account is every spending change's lock (``SpendingLedger.open``), so a capture
racing a release, a second capture or the expiry job takes turns on it, and the
loser sees the hold already ended.
"""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from application.spending.expiry import ended_event
from domain.errors import HoldNotFound
from domain.holds import Hold


async def lock_hold(uow: UnitOfWork, hold_id: str, now: datetime) -> Hold:
    found = await uow.holds.get(hold_id)
    if found is None:
        raise HoldNotFound(f"no hold {hold_id}")
    await uow.spending.open(found.user_id, [], now)
    hold = await uow.holds.get(hold_id, for_update=True)
    assert hold is not None
    return hold


async def end_hold(uow: UnitOfWork, before: Hold, after: Hold, now: datetime) -> None:
    """Save the ended hold, stop holding its credits and record it."""
    await uow.holds.save(after)
    await uow.spending.unreserve(before.user_id, before.credits, now)
    uow.record(ended_event(after, now))
