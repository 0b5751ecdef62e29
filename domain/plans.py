"""Subscription plans: what a tier costs each period and how many credits it grants.

Plans come from server configuration, like credit packages; a plan is found by its
own id (what clients name) or by the gateway price that bills it (what invoices name).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.errors import UnknownPlan, ValidationFailed
from domain.money import Money


class Interval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Plan:
    """``rollover_cap`` 0: unused credits expire with their period; otherwise at most
    that many are carried into the next period."""

    id: str
    name: str
    price_id: str
    price: Money
    interval: Interval
    credits_per_period: int
    rollover_cap: int = 0

    def __post_init__(self) -> None:
        if not self.id or not self.price_id:
            raise ValidationFailed("a plan needs an id and a gateway price id")
        if self.credits_per_period <= 0 or self.price.amount <= 0:
            raise ValidationFailed(f"plan {self.id} must cost and grant a positive amount")
        if self.rollover_cap < 0:
            raise ValidationFailed(f"plan {self.id} rollover cap must be >= 0")

    @property
    def rolls_over(self) -> bool:
        return self.rollover_cap > 0


@dataclass(frozen=True, slots=True)
class PlanCatalogue:
    plans: tuple[Plan, ...]

    def __post_init__(self) -> None:
        ids = [p.id for p in self.plans]
        prices = [p.price_id for p in self.plans]
        if len(set(ids)) != len(ids) or len(set(prices)) != len(prices):
            raise ValidationFailed("plan ids and price ids must be unique")

    @classmethod
    def of(cls, plans: Iterable[Plan]) -> PlanCatalogue:
        return cls(tuple(plans))

    def get(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise UnknownPlan(f"no such plan: {plan_id}")

    def by_price(self) -> Mapping[str, Plan]:
        return {plan.price_id: plan for plan in self.plans}
