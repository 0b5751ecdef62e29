"""What the auto top-up tests share: a user with a saved card and auto top-up on, a
debit, one pass of the worker, and the outbox's events of one type."""

from __future__ import annotations

from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import run_auto_top_ups
from application.auto_top_up.settings import SetAutoTopUp, set_auto_top_up
from application.batch import JobReport
from application.spending.debit import debit
from domain.spending import Debit
from tests.unit.conftest import App
from tests.unit.rewards_helpers import buy

OK = "4242424242424242"
AUTHENTICATES = "4000002760003184"
ATTACHES_DECLINES = "4000000000000341"


def outbox(app: App, type_: str) -> list[dict[str, object]]:
    found = [m for m in app.store.state.outbox.values() if m.type == type_]
    return [dict(m.payload) for m in sorted(found, key=lambda m: (m.occurred_at, m.event_id))]


async def customer_with(app: App, card: str | None, monthly_limit: int = 2000) -> str:
    """A user who bought 1000 credits, with ``card`` saved and auto top-up on (below 500
    credits, 1000 cents at a time, ``monthly_limit`` cents a month)."""
    user = await app.user()
    await buy(app, user)  # 1000 cents
    customer = await app.customer(user)
    if card is not None:
        await app.gateway.save_card(customer, card)
    await set_auto_top_up(
        user,
        SetAutoTopUp(True, threshold_credits=500, monthly_limit=monthly_limit, amount=1000),
        uow_factory=app.store.uow_factory,
        clock=app.clock,
        pricing=app.settings.pricing,
    )
    return user


async def spend(app: App, user: str, credits: int, key: str) -> None:
    await debit(Debit(user, credits, key), uow_factory=app.store.uow_factory, clock=app.clock)


async def run(app: App) -> JobReport:
    """One pass of the worker, whatever it came to."""
    terms = TopUpTerms(app.settings.pricing, app.settings.expires_in, app.settings.redirects)
    return await run_auto_top_ups(
        uow_factory=app.store.uow_factory, gateway=app.gateway, clock=app.clock, terms=terms
    )


async def work(app: App) -> int:
    """One pass of the worker, which must not fail; how many top-ups it settled."""
    report = await run(app)
    assert report.ok, report.failures
    return sum(report.counts.values())


def available(app: App, user: str) -> int:
    return app.store.state.accounts[user].available
