"""Auto top-up end to end on the memory adapters and the sandbox's saved cards: the
request in the debit's transaction, the off-session charge by the worker, and what
each answer of the card does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.auto_top_up.settings import get_auto_top_up
from domain.auto_top_up import TopUpStatus
from domain.errors import InsufficientCredits
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
from tests.unit.conftest import App


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
