"""POST /api/stripe/subscription/resume: undo a cancellation at the period's end.

A subscription that has ended cannot be resumed: the user subscribes again.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.gateway import SubscriptionGateway
from application.subscriptions.get_subscription import SubscriptionView, get_subscription
from application.subscriptions.manage import live_subscription, record_answer
from application.subscriptions.settings import client_key


@dataclass(frozen=True, slots=True)
class ResumeSubscription:
    user_id: str
    idempotency_key: str | None = None


async def resume_subscription(
    command: ResumeSubscription,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: SubscriptionGateway,
    clock: Clock,
) -> SubscriptionView:
    subscription = await live_subscription(command.user_id, uow_factory)
    if not subscription.cancel_at_period_end:
        return await get_subscription(command.user_id, uow_factory=uow_factory)
    snapshot = await gateway.resume_subscription(
        subscription.id, client_key(command.user_id, "resume", command.idempotency_key)
    )
    return await record_answer(snapshot, uow_factory, clock)
