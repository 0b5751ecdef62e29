"""GET /api/stripe/subscription: the user's subscription and this period's credits."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.errors import NotFound
from domain.plans import Plan
from domain.subscription import Subscription


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    subscription: Subscription
    plan: Plan | None
    credits_granted_this_period: int
    credits_rolled_over: int

    @property
    def id(self) -> str:
        return self.subscription.id


async def get_subscription(user_id: str, *, uow_factory: UnitOfWorkFactory) -> SubscriptionView:
    async with uow_factory() as uow:
        subscription = await uow.subscriptions.for_user(user_id)
        if subscription is None:
            raise NotFound("no subscription")
        return await view_of(uow, subscription)


async def view_of(uow: UnitOfWork, subscription: Subscription) -> SubscriptionView:
    """The subscription with what it granted in its current period: its invoices'
    credits (the period's and any upgrade's) and what rolled into it."""
    plans = await uow.subscriptions.plans()
    end = subscription.current_period_end
    invoices = await uow.subscriptions.invoices_ending(subscription.id, end)
    start = subscription.current_period_start
    starting = await uow.subscriptions.invoices_starting(subscription.id, start)
    return SubscriptionView(
        subscription=subscription,
        plan=plans.get(subscription.price_id or ""),
        credits_granted_this_period=sum(i.credits for i in invoices),
        credits_rolled_over=sum(i.rolled_in for i in starting),
    )
