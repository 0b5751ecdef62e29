"""After a change lowered a user's available credits, in its transaction: request a
top-up when they are below the user's threshold.

The change holds the account row, and the request is one statement that the partial
unique index ("one in flight per user") and the monthly sum both guard, so however
many changes cross the threshold at once, one top-up is requested. The charge is the
worker's (``run``), outside any transaction.

A top-up's ``amount`` is what the worker will charge: the package's price when the
settings name a package (the monthly limit is a sum of these amounts), read from the
catalogue the bus was built with; without one (tests that sell no packages) the price
saved with the settings. A package no longer sold requests nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.ids import new_id
from application.ports import UnitOfWork
from domain.auto_top_up import AutoTopUp, AutoTopUpSettings, TopUpStatus, month_start
from domain.credits import PricingPolicy
from domain.errors import UnknownPackage
from domain.events import AutoTopUpRequested, DomainEvent
from domain.money import Money

log = logging.getLogger(__name__)


async def request_auto_top_up(
    uow: UnitOfWork, event: DomainEvent, now: datetime, pricing: PricingPolicy | None = None
) -> None:
    settings = await uow.auto_top_ups.settings(event.user_id)
    if settings is None or not settings.enabled:
        return
    account = await uow.ledger.account(event.user_id)
    if account is None or not settings.wants(account.available):
        return
    price = top_up_price(settings, pricing)
    if price is None:
        log.warning(
            "auto_top_up_unknown_package user_id=%s package_id=%s",
            event.user_id,
            settings.package_id,
        )
        return
    top_up = AutoTopUp(
        id=new_id("atu"),
        user_id=event.user_id,
        status=TopUpStatus.REQUESTED,
        amount=price.amount,
        currency=price.currency,
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


def top_up_price(settings: AutoTopUpSettings, pricing: PricingPolicy | None) -> Money | None:
    """What one top-up charges; None when its package is not sold any more."""
    if settings.package_id is None or pricing is None:
        return Money.of(settings.amount, settings.currency)
    try:
        return pricing.package(settings.package_id).price
    except UnknownPackage:
        return None
