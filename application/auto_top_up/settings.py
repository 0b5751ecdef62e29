"""``PUT``/``GET /api/users/me/auto-top-up``: the settings, and this month's top-ups.

Saving settings keeps the count of failures in a row unless auto top-up is turned
(back) on, which starts it again from zero. Settings naming a package are saved with
the package's price as their amount, so the monthly limit is checked against what a
top-up charges (the request prices it again from the catalogue, ``request``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from application.ports import Clock, UnitOfWorkFactory
from domain.auto_top_up import AutoTopUp, AutoTopUpSettings, month_start
from domain.credits import PricingPolicy
from domain.errors import NotFound


@dataclass(frozen=True, slots=True)
class SetAutoTopUp:
    """What the user asks for: ``amount`` (minor units of ``currency``, default usd),
    or a ``package_id``, whose price it is (an amount or currency given with a package
    must be the package's)."""

    enabled: bool
    threshold_credits: int
    monthly_limit: int
    amount: int | None = None
    currency: str | None = None
    package_id: str | None = None

    def priced(self, pricing: PricingPolicy) -> AutoTopUpSettings:
        """The settings to save, refused as a purchase would be: an unknown package, an
        amount out of range, a currency not sold; and a limit below one top-up."""
        currency = self.currency or (None if self.package_id else "usd")
        price, _ = pricing.price_order(self.amount, currency, self.package_id)
        return AutoTopUpSettings(
            self.enabled,
            self.threshold_credits,
            price.amount,
            price.currency,
            self.package_id,
            self.monthly_limit,
        )


@dataclass(frozen=True, slots=True)
class AutoTopUpView:
    settings: AutoTopUpSettings | None
    this_month: Sequence[AutoTopUp]


async def set_auto_top_up(
    user_id: str,
    command: SetAutoTopUp,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    pricing: PricingPolicy,
) -> AutoTopUpView:
    """Refused before anything is read or saved when ``command`` is (``priced``)."""
    settings = command.priced(pricing)
    now = clock.now()
    async with uow_factory() as uow:
        if await uow.users.get(user_id) is None:
            raise NotFound(f"no user {user_id}")
        current = await uow.auto_top_ups.settings(user_id, for_update=True)
        failures = current.failures if current and current.enabled and settings.enabled else 0
        settings = replace(settings, failures=failures)
        await uow.auto_top_ups.save_settings(user_id, settings, now)
        this_month = await uow.auto_top_ups.since(user_id, month_start(now))
        await uow.commit()
    return AutoTopUpView(settings, this_month)


async def get_auto_top_up(
    user_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> AutoTopUpView:
    async with uow_factory() as uow:
        settings = await uow.auto_top_ups.settings(user_id)
        this_month = await uow.auto_top_ups.since(user_id, month_start(clock.now()))
    return AutoTopUpView(settings, this_month)
