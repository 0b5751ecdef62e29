"""Alerts decided in the transaction of the debit, hold or expiry that crossed them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from application.alerts.settings import update_alert_settings
from application.spending.balance import BalanceView, get_own_balance
from application.spending.debit import debit
from application.spending.place_hold import place_hold
from domain.spending import Debit
from tests.unit.conftest import App
from tests.unit.rewards_helpers import buy


def alerts(app: App, type_: str) -> list[dict[str, object]]:
    found = [m for m in app.store.state.outbox.values() if m.type == type_]
    return [dict(m.payload) for m in sorted(found, key=lambda m: m.occurred_at)]


async def funded(app: App) -> tuple[str, int]:
    user = await app.user()
    await buy(app, user)
    return user, app.store.state.accounts[user].available


async def spend(app: App, user: str, credits: int, key: str) -> None:
    await debit(Debit(user, credits, key), uow_factory=app.store.uow_factory, clock=app.clock)


async def settle(app: App, user: str, **changes: int | None) -> None:
    await update_alert_settings(user, changes, uow_factory=app.store.uow_factory, clock=app.clock)


async def test_low_balance_fires_once_per_crossing_and_re_arms_after_a_purchase(
    app: App,
) -> None:
    user, credits = await funded(app)
    await settle(app, user, low_balance_threshold=credits // 2)

    await spend(app, user, credits // 2 + 1, "a")
    await spend(app, user, 1, "b")
    assert [a["available"] for a in alerts(app, "credits.low_balance")] == [credits // 2 - 1]

    await buy(app, user)
    await spend(app, user, credits, "c")
    assert len(alerts(app, "credits.low_balance")) == 2


async def test_depleted_fires_once_at_zero(app: App) -> None:
    user, credits = await funded(app)

    await spend(app, user, credits, "all")

    assert [a["available"] for a in alerts(app, "credits.depleted")] == [0]
    assert alerts(app, "credits.low_balance") == []  # no threshold set


async def test_a_hold_crossing_the_threshold_fires(app: App) -> None:
    user, credits = await funded(app)
    await settle(app, user, low_balance_threshold=10)

    await place_hold(
        user, credits - 5, "hold-1", 600, uow_factory=app.store.uow_factory, clock=app.clock
    )

    assert [a["available"] for a in alerts(app, "credits.low_balance")] == [5]


async def own_balance(app: App, user: str) -> BalanceView:
    return await get_own_balance(user, uow_factory=app.store.uow_factory, clock=app.clock)


async def test_runway_from_a_known_spending_history(app: App) -> None:
    user, credits = await funded(app)
    assert (await own_balance(app, user)).runway_days is None
    app.clock.advance(timedelta(days=10))
    await spend(app, user, 100, "old")  # leaves the window below
    app.clock.advance(timedelta(days=8))
    for day in range(7):
        await spend(app, user, 10, f"day-{day}")
        app.clock.advance(timedelta(days=1))

    runway = (await own_balance(app, user)).runway_days

    left = credits - 100 - 70
    assert runway == (Decimal(left) * 7 / 70).quantize(Decimal("0.1"))


async def test_runway_low_fires_once_when_the_runway_falls_under_the_days(app: App) -> None:
    user, credits = await funded(app)
    await settle(app, user, runway_alert_days=2)

    await spend(app, user, credits // 10, "slow")  # 63 days left at this rate
    assert alerts(app, "credits.runway_low") == []
    await spend(app, user, credits * 8 // 10, "fast")  # under a day left
    await spend(app, user, 1, "more")

    (fired,) = alerts(app, "credits.runway_low")
    assert fired["alert_days"] == 2
