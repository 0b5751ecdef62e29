"""Holds past their expiry stop holding: released whenever their account is touched,
and in bulk by ``batch expire-holds``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from application.ports import UnitOfWork
from domain.events import HoldEnded
from domain.holds import Hold
from domain.ledger import Account


async def release_expired(uow: UnitOfWork, user_id: str, now: datetime) -> Account:
    """End the user's expired holds (the caller holds the account); the account after."""
    return await end_expired(uow, user_id, await uow.holds.expired_of(user_id, now), now)


async def end_expired(
    uow: UnitOfWork, user_id: str, holds: Sequence[Hold], now: datetime
) -> Account:
    total = 0
    for hold in holds:
        ended = hold.expire(now)
        await uow.holds.save(ended)
        uow.record(ended_event(ended, now))
        total += hold.credits
    if total:
        return await uow.spending.unreserve(user_id, total, now)
    account = await uow.ledger.account(user_id)
    assert account is not None
    return account


def ended_event(hold: Hold, now: datetime) -> HoldEnded:
    return HoldEnded(
        user_id=hold.user_id,
        occurred_at=now,
        hold_id=hold.id,
        status=hold.status.value,
        credits=hold.credits,
        captured=hold.captured,
    )
