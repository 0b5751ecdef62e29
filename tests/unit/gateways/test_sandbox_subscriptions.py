"""The sandbox's subscriptions: the checkout page shows the plan, periods follow the
calendar, renewals charge the saved card, and a canceled subscription stays ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.sandbox.page import render_checkout
from adapters.sandbox.subscriptions import add_interval
from domain.errors import GatewayRejected
from domain.plans import Interval
from domain.subscription import SubscriptionStatus
from tests.unit.subscriptions.test_subscription_use_cases import subscribe
from tests.unit.subscriptions.world import PLUS, YEARLY, World


def ts(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())


def test_periods_follow_the_calendar() -> None:
    assert add_interval(ts(2026, 1, 31), Interval.MONTH) == ts(2026, 2, 28)
    assert add_interval(ts(2026, 12, 15), Interval.MONTH) == ts(2027, 1, 15)
    assert add_interval(ts(2028, 2, 29), Interval.YEAR) == ts(2029, 2, 28)


async def test_the_checkout_page_shows_the_plan() -> None:
    world = World()
    user_id = await world.user()
    session_id = await subscribe(world, user_id, YEARLY.id)
    details = await world.gateway.checkout_details(session_id)
    assert details.amount == 20000
    assert "Yearly" in details.description and "30000 credits" in details.description
    assert "Yearly" in render_checkout(details, "nonce")


async def test_renewals_advance_the_period_and_a_canceled_subscription_stays_ended() -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, PLUS)
    first = await world.gateway.get_subscription(subscription_id)
    outcome = await world.gateway.renew_subscription(subscription_id, "never")
    assert [e.type for e in outcome.events] == ["customer.subscription.updated", "invoice.paid"]
    renewed = await world.gateway.get_subscription(subscription_id)
    assert renewed.current_period_start == first.current_period_end
    await world.gateway.cancel_subscription(subscription_id, False, None)
    ended = await world.gateway.get_subscription(subscription_id)
    assert ended.status is SubscriptionStatus.CANCELED
    with pytest.raises(GatewayRejected):
        await world.gateway.renew_subscription(subscription_id, "never")
    with pytest.raises(GatewayRejected):
        await world.gateway.resume_subscription(subscription_id, None)
