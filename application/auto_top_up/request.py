"""After credits were spent, reserved or expired, in that transaction: request a top-up
when available credits are below the user's threshold.

The change holds the account row, and the request is one statement that the partial
unique index ("one in flight per user") and the monthly sum both guard, so however
many debits cross the threshold at once, one top-up is requested. The charge is the
worker's (``run``), outside any transaction.
"""

from __future__ import annotations

from datetime import datetime

from application.ids import new_id
from application.ports import UnitOfWork
from domain.auto_top_up import AutoTopUp, TopUpStatus, month_start
from domain.events import AutoTopUpRequested, DomainEvent


async def request_auto_top_up(uow: UnitOfWork, event: DomainEvent, now: datetime) -> None:
    settings = await uow.auto_top_ups.settings(event.user_id)
    if settings is None or not settings.enabled:
        return
    account = await uow.ledger.account(event.user_id)
    if account is None or not settings.wants(account.available):
        return
    top_up = AutoTopUp(
        id=new_id("atu"),
        user_id=event.user_id,
        status=TopUpStatus.REQUESTED,
        amount=settings.amount,
        currency=settings.currency,
        package_id=settings.package_id,
        created_at=now,
        next_attempt_at=now,
    )
    if await uow.auto_top_ups.request(top_up, settings.monthly_limit, month_start(now)):
        uow.record(
            AutoTopUpRequested(
                user_id=event.user_id,
                occurred_at=now,
                top_up_id=top_up.id,
                amount=top_up.amount,
                currency=top_up.currency,
                available=account.available,
            )
        )
