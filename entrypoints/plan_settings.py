"""Subscription plans from the ``CREDITLINE_CONFIG`` TOML file (``[[plans]]``), with
built-in defaults (a monthly and a yearly tier) so subscriptions work out of the box
with the sandbox.

The default plans' price ids exist only at the sandbox; with Stripe, configure each
plan with the id of a recurring Price of the same amount, currency and interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.errors import DomainError
from domain.money import Money
from domain.plans import Interval, Plan, PlanCatalogue

DEFAULT_PLANS: tuple[dict[str, Any], ...] = (
    {
        "id": "monthly",
        "name": "Monthly",
        "price_id": "price_creditline_monthly",
        "amount": 2000,
        "currency": "usd",
        "interval": "month",
        "credits_per_period": 2500,
        "rollover_cap": 1250,
    },
    {
        "id": "yearly",
        "name": "Yearly",
        "price_id": "price_creditline_yearly",
        "amount": 20000,
        "currency": "usd",
        "interval": "year",
        "credits_per_period": 30000,
        "rollover_cap": 0,
    },
)


class PlanConfigError(ValueError):
    """A ``[[plans]]`` entry that cannot be a plan; the message names it."""


def load_plans(data: Mapping[str, Any], currencies: frozenset[str]) -> PlanCatalogue:
    specs = data.get("plans", DEFAULT_PLANS)
    try:
        catalogue = PlanCatalogue.of(_plan(spec) for spec in specs)
    except (KeyError, TypeError, ValueError, DomainError) as exc:
        raise PlanConfigError(f"CREDITLINE_CONFIG plans are invalid: {exc}") from None
    for plan in catalogue.plans:
        if plan.price.currency not in currencies:
            raise PlanConfigError(f"CREDITLINE_CONFIG plan '{plan.id}' uses an unsold currency")
    return catalogue


def _plan(spec: Mapping[str, Any]) -> Plan:
    return Plan(
        id=str(spec["id"]),
        name=str(spec["name"]),
        price_id=str(spec["price_id"]),
        price=Money.of(int(spec["amount"]), str(spec["currency"])),
        interval=Interval(str(spec["interval"])),
        credits_per_period=int(spec["credits_per_period"]),
        rollover_cap=int(spec.get("rollover_cap", 0)),
    )
