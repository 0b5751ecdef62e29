"""POST /api/stripe/subscription/change: upgrade now, or downgrade from the next period.

An upgrade (more credits per period) with ``proration`` charges the difference for the
rest of the period at once; that invoice, when paid, grants the difference
(``invoice_credits``). Without proration, and for every downgrade, the new price is
billed from the next period on, and this period's credits stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.gateway import PlanChange, SubscriptionGateway
from application.subscriptions.get_subscription import SubscriptionView, get_subscription
from application.subscriptions.manage import live_subscription, record_answer
from application.subscriptions.settings import SubscriptionSettings, client_key
from domain.errors import SubscriptionNotChangeable
from domain.subscription import SubscriptionStatus

CHANGEABLE = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING})


@dataclass(frozen=True, slots=True)
class ChangePlan:
    user_id: str
    plan_id: str
    proration: bool = True
    idempotency_key: str | None = None


async def change_subscription(
    command: ChangePlan,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: SubscriptionGateway,
    clock: Clock,
    settings: SubscriptionSettings,
) -> SubscriptionView:
    plan = settings.plans.get(command.plan_id)
    subscription = await live_subscription(command.user_id, uow_factory)
    if subscription.status not in CHANGEABLE:
        raise SubscriptionNotChangeable(f"a {subscription.status} subscription cannot change plan")
    if subscription.price_id == plan.price_id:
        return await get_subscription(command.user_id, uow_factory=uow_factory)
    async with uow_factory() as uow:
        await uow.subscriptions.record_plan(plan, clock.now())
        current = (await uow.subscriptions.plans()).get(subscription.price_id or "")
        await uow.commit()
    upgrade = current is None or plan.credits_per_period > current.credits_per_period
    change = PlanChange(
        subscription_id=subscription.id,
        plan=plan,
        prorate=upgrade and command.proration,
        idempotency_key=client_key(command.user_id, f"change:{plan.id}", command.idempotency_key),
    )
    return await record_answer(await gateway.change_subscription(change), uow_factory, clock)
