"""The subscription use cases on the memory adapters and the memory gateway."""

from __future__ import annotations

import pytest

from application.subscriptions.cancel_subscription import CancelSubscription, cancel_subscription
from application.subscriptions.change_subscription import ChangePlan, change_subscription
from application.subscriptions.create_subscription_checkout import (
    Subscribe,
    create_subscription_checkout,
)
from application.subscriptions.get_subscription import get_subscription
from application.webhooks.handling import EventOutcome
from domain.errors import NotFound, SubscriptionExists, SubscriptionNotChangeable, UnknownPlan
from tests.unit.conftest import stripe_event
from tests.unit.subscriptions.world import BASIC, PLUS, PRO, World, settings


async def subscribe(world: World, user_id: str, plan_id: str, key: str | None = None) -> str:
    opened = await create_subscription_checkout(
        Subscribe(user_id, plan_id, idempotency_key=key),
        uow_factory=world.store.uow_factory,
        gateway=world.gateway,
        clock=world.clock,
        settings=settings(),
    )
    return opened.session_id


async def deliver_all(world: World) -> None:
    await world.apply(world.new_events())


async def test_one_customer_per_user_and_one_live_subscription() -> None:
    world = World()
    user_id = await world.user()
    first = await subscribe(world, user_id, "basic", key="k1")
    assert await subscribe(world, user_id, "basic", key="k1") == first  # the key replays
    with pytest.raises(SubscriptionExists):  # one Checkout at a time, until it lapses
        await subscribe(world, user_id, "basic")
    await world.gateway.pay_checkout(first, "4242424242424242", "never")
    await deliver_all(world)
    with pytest.raises(SubscriptionExists):
        await subscribe(world, user_id, "plus")
    customers = world.store.state.subscriptions.customers
    assert list(customers) == [user_id]
    view = await get_subscription(user_id, uow_factory=world.store.uow_factory)
    assert view.plan == BASIC and view.credits_granted_this_period == 1000


async def test_unknown_plans_and_missing_subscriptions_are_refused() -> None:
    world = World()
    user_id = await world.user()
    with pytest.raises(UnknownPlan):
        await subscribe(world, user_id, "gold")
    with pytest.raises(NotFound):
        await get_subscription(user_id, uow_factory=world.store.uow_factory)
    with pytest.raises(NotFound):
        await cancel_subscription(
            CancelSubscription(user_id),
            uow_factory=world.store.uow_factory,
            gateway=world.gateway,
            clock=world.clock,
        )


async def test_a_past_due_subscription_cannot_change_plan() -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, PLUS)
    await world.gateway.fail_next_renewal(subscription_id)
    await world.gateway.renew_subscription(subscription_id, "never")
    await deliver_all(world)
    with pytest.raises(SubscriptionNotChangeable):
        await change_subscription(
            ChangePlan(user_id, PRO.id),
            uow_factory=world.store.uow_factory,
            gateway=world.gateway,
            clock=world.clock,
            settings=settings(),
        )
    assert await world.balance(user_id) == 2500


async def test_an_upgrade_declined_at_the_gateway_changes_nothing() -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, BASIC)
    await deliver_all(world)
    await world.gateway.fail_next_renewal(subscription_id)
    with pytest.raises(Exception, match="declined"):
        await change_subscription(
            ChangePlan(user_id, PRO.id),
            uow_factory=world.store.uow_factory,
            gateway=world.gateway,
            clock=world.clock,
            settings=settings(),
        )
    view = await get_subscription(user_id, uow_factory=world.store.uow_factory)
    assert view.plan == BASIC and await world.balance(user_id) == 1000


async def test_another_apps_invoice_is_recorded_as_not_ours() -> None:
    """``invoice.paid`` is ours now; an invoice of a customer we did not create is not."""
    world = World()
    other = stripe_event(
        "invoice.paid",
        {"id": "in_1", "object": "invoice", "customer": "cus_other", "metadata": {"app": "x"}},
    )
    assert await world.apply([other]) == [EventOutcome.NOT_OURS]
