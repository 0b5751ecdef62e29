"""Auto top-up end to end on the memory adapters and the sandbox's saved cards: the
request in the debit's transaction, the off-session charge by the worker, and what
each answer of the card does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.auto_top_up.settings import SetAutoTopUp, get_auto_top_up, set_auto_top_up
from domain.auto_top_up import AutoTopUpSettings, TopUpStatus
from domain.errors import DomainError, InsufficientCredits
from domain.payment import PaymentStatus
from tests.unit.auto_top_up.helpers import (
    ATTACHES_DECLINES,
    OK,
    available,
    customer_with,
    outbox,
    spend,
    work,
)
from tests.unit.conftest import PRICING, App


async def test_crossing_the_threshold_buys_once_through_the_purchase_path(app: App) -> None:
    user = await customer_with(app, OK)
    credits = available(app, user)

    await spend(app, user, credits - 400, "a")
    await spend(app, user, 10, "b")  # still below, one already in flight
    assert len(outbox(app, "auto_top_up.requested")) == 1
    assert await work(app) == 1
    assert await work(app) == 0

    assert available(app, user) == 390 + credits
    (succeeded,) = outbox(app, "auto_top_up.succeeded")
    payment = app.payment(str(succeeded["payment_id"]))
    assert payment.status is PaymentStatus.COMPLETED and payment.amount == 1000
    view = await get_auto_top_up(user, uow_factory=app.store.uow_factory, clock=app.clock)
    assert [t.status for t in view.this_month] == [TopUpStatus.SUCCEEDED]


async def test_the_monthly_limit_stops_top_ups(app: App) -> None:
    user = await customer_with(app, OK)
    for round_ in range(3):
        with pytest.raises(InsufficientCredits):
            await spend(app, user, 10**9, f"too-much-{round_}")
        await spend(app, user, available(app, user) - 1, f"r{round_}")
        await work(app)

    assert len(outbox(app, "auto_top_up.succeeded")) == 2  # 2 x 1000 within 2000


async def test_declines_are_retried_then_auto_top_up_is_disabled(app: App) -> None:
    user = await customer_with(app, ATTACHES_DECLINES)
    await spend(app, user, available(app, user) - 1, "a")

    await work(app)
    assert await work(app) == 0  # not before the retry is due
    app.clock.advance(timedelta(hours=1, minutes=1))
    await work(app)
    app.clock.advance(timedelta(hours=6, minutes=1))
    await work(app)

    assert [f["attempt"] for f in outbox(app, "auto_top_up.failed")] == [1, 2, 3]
    assert len(outbox(app, "auto_top_up.disabled")) == 1
    view = await get_auto_top_up(user, uow_factory=app.store.uow_factory, clock=app.clock)
    assert view.settings is not None and not view.settings.enabled
    await spend(app, user, 1, "b")
    assert len(outbox(app, "auto_top_up.requested")) == 1


async def test_no_saved_card_disables_auto_top_up(app: App) -> None:
    user = await customer_with(app, None)
    await spend(app, user, available(app, user) - 1, "a")

    await work(app)

    (disabled,) = outbox(app, "auto_top_up.disabled")
    assert disabled["reason"] == "no_payment_method"


async def test_a_package_top_up_counts_the_packages_price_against_the_limit(app: App) -> None:
    """Settings saved when "pro" cost 1000 (it costs 5000 now): a limit of 10000 admits
    two top-ups of the package, not ten of the amount saved."""
    user = await customer_with(app, OK)
    stale = AutoTopUpSettings(True, 500, 1000, "usd", "pro", monthly_limit=10000)
    async with app.store.uow() as uow:
        await uow.auto_top_ups.save_settings(user, stale, app.clock.now())
        await uow.commit()

    for round_ in range(4):  # each round crosses the threshold again
        await spend(app, user, max(available(app, user) - 1, 1), f"r{round_}")
        await work(app)

    top_ups = list(app.store.state.auto_top_ups.values())
    assert [(t.amount, t.status) for t in top_ups] == [(5000, TopUpStatus.SUCCEEDED)] * 2
    paid = [app.payment(str(s["payment_id"])) for s in outbox(app, "auto_top_up.succeeded")]
    assert [(p.amount, p.credits) for p in paid] == [(5000, 5500)] * 2


async def test_a_package_no_longer_sold_requests_nothing(app: App) -> None:
    user = await customer_with(app, OK)
    gone = AutoTopUpSettings(True, 500, 1000, "usd", "discontinued", monthly_limit=10000)
    async with app.store.uow() as uow:
        await uow.auto_top_ups.save_settings(user, gone, app.clock.now())
        await uow.commit()

    await spend(app, user, available(app, user) - 1, "a")

    assert outbox(app, "auto_top_up.requested") == []
    assert available(app, user) == 1  # the debit itself went through


async def test_settings_with_a_package_are_saved_at_its_price(app: App) -> None:
    user = await app.user()
    pro = SetAutoTopUp(True, threshold_credits=500, monthly_limit=10000, package_id="pro")

    view = await set_auto_top_up(
        user, pro, uow_factory=app.store.uow_factory, clock=app.clock, pricing=PRICING
    )

    assert view.settings is not None
    assert (view.settings.amount, view.settings.currency) == (5000, "usd")


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (SetAutoTopUp(True, 500, 10000, package_id="nope"), "unknown_package"),
        (SetAutoTopUp(True, 500, 10000, amount=1000, package_id="pro"), "package_amount_mismatch"),
        (
            SetAutoTopUp(True, 500, 10000, currency="eur", package_id="pro"),
            "package_amount_mismatch",
        ),
        (SetAutoTopUp(True, 500, 4999, package_id="pro"), "monthly_limit_below_amount"),
        (SetAutoTopUp(True, 500, 10000), "validation_error"),
        (SetAutoTopUp(True, 500, 10000, amount=1000, currency="xyz"), "unsupported_currency"),
    ],
)
async def test_refused_settings_save_nothing(app: App, command: SetAutoTopUp, code: str) -> None:
    user = await app.user()
    kept = SetAutoTopUp(False, threshold_credits=100, monthly_limit=2000, amount=1000)
    await set_auto_top_up(
        user, kept, uow_factory=app.store.uow_factory, clock=app.clock, pricing=PRICING
    )

    with pytest.raises(DomainError) as refused:
        await set_auto_top_up(
            user, command, uow_factory=app.store.uow_factory, clock=app.clock, pricing=PRICING
        )

    assert refused.value.code == code
    saved = AutoTopUpSettings(False, 100, 1000, monthly_limit=2000)
    assert app.store.state.auto_top_up_settings[user] == saved
