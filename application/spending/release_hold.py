"""``POST /api/credits/holds/{id}/release``: free a hold's credits without spending any."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.spending.settle_hold import end_hold, lock_hold
from domain.holds import Hold


async def release_hold(hold_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock) -> Hold:
    """An expired hold ends as expired; an ended one raises ``hold_not_active``."""
    now = clock.now()
    async with uow_factory() as uow:
        hold = await lock_hold(uow, hold_id, now)
        released = hold.release(now)
        await end_hold(uow, hold, released, now)
        await uow.commit()
    return released
