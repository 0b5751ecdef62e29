"""Record what the gateway says about a subscription, forward only.

The one path by which a subscription row is created or changed: the webhook
handlers, the checkout's completion and the change, cancel and resume use cases all
come here with a snapshot. A subscription is ours only when its customer is one we
created (docs/failure-modes.md #12); metadata alone is never trusted.
"""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from domain.events import SubscriptionCanceled, SubscriptionChanged, SubscriptionCreated
from domain.subscription import Subscription, SubscriptionSnapshot, SubscriptionStatus


async def observe_subscription(
    uow: UnitOfWork, snapshot: SubscriptionSnapshot, now: datetime
) -> tuple[Subscription | None, bool]:
    """The subscription (locked) after applying ``snapshot``, and whether it changed.

    ``(None, False)`` when the subscription is not ours.
    """
    current = await uow.subscriptions.get(snapshot.subscription_id, for_update=True)
    plan = (await uow.subscriptions.plans()).get(snapshot.price_id or "")
    plan_id = None if plan is None else plan.id
    if current is None:
        user_id = None
        if snapshot.customer_id is not None:
            user_id = await uow.customers.user_for(snapshot.customer_id)
        if user_id is None:
            return None, False
        started = Subscription.start(snapshot, user_id, plan_id, now)
        if await uow.subscriptions.add(started):
            # From now on the live subscription refuses a second Checkout, not the claim.
            await uow.subscriptions.release_checkout(user_id)
            uow.record(SubscriptionCreated.of(started, now))
            if started.status is SubscriptionStatus.CANCELED:
                uow.record(SubscriptionCanceled.of(started, now))
            return started, True
        current = await uow.subscriptions.get(snapshot.subscription_id, for_update=True)
        assert current is not None
    observed = current.observe(snapshot, plan_id, now)
    if observed is None:
        return current, False
    await uow.subscriptions.save(observed)
    if observed.status is SubscriptionStatus.CANCELED:
        uow.record(SubscriptionCanceled.of(observed, now))
    else:
        uow.record(SubscriptionChanged.of(observed, now))
    return observed, True
