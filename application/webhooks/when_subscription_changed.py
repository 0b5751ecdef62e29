"""A subscription was created, changed, ended, or its Checkout completed.

Decisions come from the subscription's current state at the gateway, read before the
transaction, and are applied forward only (``Subscription.observe``), so any order
and number of deliveries end in the gateway's state (docs/failure-modes.md #14).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from application.ports import UnitOfWork
from application.subscriptions.gateway import SubscriptionReadGateway
from application.subscriptions.observe import observe_subscription
from application.webhooks.events import InvoiceEvent, SubscriptionEvent
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from domain.errors import GatewayRejected, NotFound
from domain.subscription import SubscriptionSnapshot

S = TypeVar("S", bound=SubscriptionEvent)
I = TypeVar("I", bound=InvoiceEvent)  # noqa: E741


async def current_state(
    gateway: SubscriptionReadGateway, subscription_id: str | None
) -> SubscriptionSnapshot | None:
    """The subscription as the gateway has it now; None if it does not know it."""
    if subscription_id is None:
        return None
    try:
        return await gateway.get_subscription(subscription_id)
    except (NotFound, GatewayRejected):
        return None


async def fetch_subscription(event: S, gateway: SubscriptionReadGateway) -> S:
    snapshot = await current_state(gateway, event.subscription_id)
    return event if snapshot is None else replace(event, snapshot=snapshot)


async def on_subscription_changed(
    uow: UnitOfWork, event: SubscriptionEvent, now: datetime
) -> Handled:
    if event.snapshot is None:
        return NOT_OURS
    subscription, changed = await observe_subscription(uow, event.snapshot, now)
    if subscription is None:
        return NOT_OURS
    return Handled(EventOutcome.UPDATED if changed else EventOutcome.NO_CHANGE, subscription.id)
