"""One subscription Checkout at a time per user, and what a second subscription that
still completes at the gateway (made in its dashboard, say) does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application.subscriptions.create_subscription_checkout import (
    Subscribe,
    create_subscription_checkout,
)
from application.subscriptions.gateway import SubscriptionCheckoutRequest
from application.subscriptions.get_subscription import get_subscription
from domain.errors import GatewayUnavailable, SubscriptionExists
from tests.unit.conftest import CARD_OK
from tests.unit.subscriptions.world import BASIC, PLUS, World, settings


async def open_checkout(world: World, user_id: str, plan_id: str = "basic") -> str:
    opened = await create_subscription_checkout(
        Subscribe(user_id, plan_id),
        uow_factory=world.store.uow_factory,
        gateway=world.gateway,
        clock=world.clock,
        settings=settings(),
    )
    return opened.session_id


async def test_of_ten_concurrent_checkouts_one_opens() -> None:
    world = World()
    user_id = await world.user()
    results = await asyncio.gather(
        *(open_checkout(world, user_id) for _ in range(10)), return_exceptions=True
    )
    opened = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, SubscriptionExists)]
    assert (len(opened), len(refused)) == (1, 9)


async def test_the_claim_lapses_with_the_checkout() -> None:
    world = World()
    user_id = await world.user()
    first = await open_checkout(world, user_id)
    with pytest.raises(SubscriptionExists):
        await open_checkout(world, user_id, "plus")
    world.clock.advance(settings().checkout_expires_in + timedelta(seconds=1))
    assert await open_checkout(world, user_id, "plus") != first


async def test_a_checkout_the_gateway_never_opened_holds_no_claim() -> None:
    world = World()
    user_id = await world.user()

    async def down(request: SubscriptionCheckoutRequest) -> None:
        raise GatewayUnavailable("Stripe is down")

    working = world.gateway.create_subscription_checkout
    world.gateway.create_subscription_checkout = down  # type: ignore[assignment,method-assign]
    with pytest.raises(GatewayUnavailable):
        await open_checkout(world, user_id)
    world.gateway.create_subscription_checkout = working  # type: ignore[method-assign]
    assert await open_checkout(world, user_id)


async def test_a_recorded_subscription_gives_the_claim_back_and_refuses_instead() -> None:
    world = World()
    user_id = await world.user()
    await world.subscribe(user_id, BASIC)
    await world.apply(world.new_events())
    assert world.store.state.subscriptions.claims == {}
    with pytest.raises(SubscriptionExists, match="change its plan"):
        await open_checkout(world, user_id, "plus")


async def test_a_second_subscription_completed_at_the_gateway_is_granted_too() -> None:
    """Money taken is credits granted: both subscriptions' invoices grant, neither is
    canceled by us; the API shows the newest live one."""
    world = World()
    user_id = await world.user()
    await world.subscribe(user_id, BASIC)
    await world.apply(world.new_events())
    world.clock.advance(timedelta(days=1))
    customer_id = world.store.state.subscriptions.customers[user_id]
    async with world.store.uow_factory() as uow:  # a plan of ours, billed a second time
        await uow.subscriptions.record_plan(PLUS, world.clock.now())
        await uow.commit()
    second = await world.gateway.create_subscription_checkout(
        SubscriptionCheckoutRequest(
            user_id=user_id,
            customer_id=customer_id,
            plan=PLUS,
            success_url="https://app.example/ok",
            cancel_url="https://app.example/no",
            expires_at=world.clock.now() + timedelta(hours=1),
            idempotency_key="made-in-the-dashboard",
        )
    )
    await world.gateway.pay_checkout(second.session_id, CARD_OK, "never")
    await world.apply(world.new_events())
    assert await world.balance(user_id) == BASIC.credits_per_period + PLUS.credits_per_period
    live = [s for s in world.store.state.subscriptions.subscriptions.values() if s.is_live]
    assert len(live) == 2
    view = await get_subscription(user_id, uow_factory=world.store.uow_factory)
    assert view.plan == PLUS
