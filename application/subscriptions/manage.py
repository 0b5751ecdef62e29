"""What the change, cancel and resume use cases share: the user's live subscription,
and recording the gateway's answer."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.get_subscription import SubscriptionView, view_of
from application.subscriptions.observe import observe_subscription
from domain.errors import NotFound
from domain.subscription import Subscription, SubscriptionSnapshot


async def live_subscription(user_id: str, uow_factory: UnitOfWorkFactory) -> Subscription:
    async with uow_factory() as uow:
        subscription = await uow.subscriptions.for_user(user_id)
    if subscription is None or not subscription.is_live:
        raise NotFound("no live subscription")
    return subscription


async def record_answer(
    snapshot: SubscriptionSnapshot, uow_factory: UnitOfWorkFactory, clock: Clock
) -> SubscriptionView:
    """Apply what the gateway answered now; its webhooks say the same later (no-ops)."""
    async with uow_factory() as uow:
        subscription, _ = await observe_subscription(uow, snapshot, clock.now())
        if subscription is None:
            raise NotFound(f"subscription {snapshot.subscription_id} is not ours")
        view = await view_of(uow, subscription)
        await uow.commit()
    return view
