"""A dispute opened turns the user's auto top-up off, in the dispute's transaction.

A customer contesting a charge should not be charged again off-session while the bank
decides (a second dispute is likely, and card networks count them against the
merchant). The user, or an operator, turns it back on with ``PUT
/api/users/me/auto-top-up``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.ports import UnitOfWork
from domain.events import AutoTopUpDisabled, DisputeChanged

OPENED = "open"


async def pause_for_dispute(uow: UnitOfWork, event: DisputeChanged, now: datetime) -> None:
    if event.status != OPENED:
        return
    settings = await uow.auto_top_ups.settings(event.user_id, for_update=True)
    if settings is None or not settings.enabled:
        return
    await uow.auto_top_ups.save_settings(event.user_id, replace(settings, enabled=False), now)
    uow.record(
        AutoTopUpDisabled(
            user_id=event.user_id,
            occurred_at=now,
            top_up_id="",
            reason="dispute_opened",
            dispute_id=event.dispute_id,
        )
    )
