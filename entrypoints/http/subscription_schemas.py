"""Request bodies and responses of the subscription routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.subscriptions.create_subscription_checkout import SubscriptionCheckoutOpened
from application.subscriptions.get_subscription import SubscriptionView
from domain.plans import Plan
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody

PlanId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]


class SubscriptionCheckoutIn(RequestBody):
    plan_id: PlanId
    success_url: Url | None = None
    cancel_url: Url | None = None


class ChangePlanIn(RequestBody):
    """``proration``: for an upgrade, charge (and grant) the rest of this period's
    difference now; otherwise the new plan starts with the next period."""

    plan_id: PlanId
    proration: bool = True


class CancelIn(RequestBody):
    at_period_end: bool = True


class ResumeIn(RequestBody):
    pass


class PlanOut(msgspec.Struct):
    id: str
    name: str
    amount: int
    currency: str
    amount_display: str
    interval: str
    credits_per_period: int
    rollover_cap: int

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        price = plan.price
        return convert(
            plan,
            cls,
            amount=price.amount,
            currency=price.currency,
            amount_display=price.format(),
            interval=plan.interval.value,
        )


class SubscriptionCheckoutOut(msgspec.Struct):
    session_id: str
    url: str
    expires_at: datetime
    plan_id: str

    @classmethod
    def of(cls, opened: SubscriptionCheckoutOpened) -> SubscriptionCheckoutOut:
        return convert(opened, cls)


class SubscriptionOut(msgspec.Struct):
    """``id`` is the gateway's subscription id (the sandbox's renew route takes it)."""

    id: str
    plan_id: str | None
    plan: PlanOut | None
    status: str
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    canceled_at: datetime | None
    credits_granted_this_period: int
    credits_rolled_over: int

    @classmethod
    def of(cls, view: SubscriptionView) -> SubscriptionOut:
        sub = view.subscription
        return cls(
            id=sub.id,
            plan_id=view.plan.id if view.plan else sub.plan_id,
            plan=PlanOut.of(view.plan) if view.plan else None,
            status=sub.status.value,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
            canceled_at=sub.canceled_at,
            credits_granted_this_period=view.credits_granted_this_period,
            credits_rolled_over=view.credits_rolled_over,
        )
