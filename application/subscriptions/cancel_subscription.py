"""POST /api/stripe/subscription/cancel: at the period's end (default) or now.

Either way the period's credits stay until the period ends (their lots expire then);
purchased credits are never touched. Nothing is refunded.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.gateway import SubscriptionGateway
from application.subscriptions.get_subscription import SubscriptionView
from application.subscriptions.manage import live_subscription, record_answer
from application.subscriptions.settings import client_key


@dataclass(frozen=True, slots=True)
class CancelSubscription:
    user_id: str
    at_period_end: bool = True
    idempotency_key: str | None = None


async def cancel_subscription(
    command: CancelSubscription,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: SubscriptionGateway,
    clock: Clock,
) -> SubscriptionView:
    subscription = await live_subscription(command.user_id, uow_factory)
    action = "cancel_at_period_end" if command.at_period_end else "cancel_now"
    snapshot = await gateway.cancel_subscription(
        subscription.id,
        command.at_period_end,
        client_key(command.user_id, action, command.idempotency_key),
    )
    return await record_answer(snapshot, uow_factory, clock)
