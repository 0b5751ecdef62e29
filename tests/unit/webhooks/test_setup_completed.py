"""A setup-mode Checkout's completion makes the saved card the customer's default, so the
saved card shows and auto top-up can charge it; other apps' sessions and customers we
do not know change nothing, and a redelivery is a duplicate."""

from __future__ import annotations

from typing import Any

from application.auto_top_up.cards import saved_card
from application.webhooks.handling import EventOutcome
from domain.errors import NotFound
from tests.unit.conftest import App, stripe_event

OK = "4242424242424242"


class Setups:
    """The gateway's SetupIntents as the memory gateway cannot make them: each names
    the card it saved; every call is kept."""

    def __init__(self, app: App) -> None:
        self.calls: list[tuple[str, str]] = []
        self.saved: dict[str, str] = {}
        self._app = app

    async def use_setup_payment_method(self, setup_intent_id: str, customer_id: str) -> str | None:
        self.calls.append((setup_intent_id, customer_id))
        if setup_intent_id not in self.saved:
            raise NotFound(f"no such setup intent: {setup_intent_id}")
        await self._app.gateway.save_card(customer_id, self.saved[setup_intent_id])
        return f"pm_{setup_intent_id}"


def with_setups(app: App) -> Setups:
    setups = Setups(app)
    app.gateway.use_setup_payment_method = setups.use_setup_payment_method  # type: ignore[method-assign]
    return setups


async def customer(app: App) -> tuple[str, str]:
    user = await app.user()
    return user, await app.customer(user)


def setup_completed(customer_id: str, setup_intent: str, **overrides: Any) -> Any:
    session = {
        "id": f"cs_test_{setup_intent}",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "customer": customer_id,
        "setup_intent": setup_intent,
        "metadata": {"purpose": "auto_top_up"},
        **overrides,
    }
    return stripe_event("checkout.session.completed", session)


async def card_of(app: App, user: str) -> Any:
    return await saved_card(user, uow_factory=app.store.uow_factory, gateway=app.gateway)


async def test_the_saved_card_becomes_the_default_once(app: App) -> None:
    setups = with_setups(app)
    user, cus = await customer(app)
    setups.saved["seti_1"] = OK
    event = setup_completed(cus, "seti_1")

    assert await app.handle(event) is EventOutcome.UPDATED
    assert await app.handle(event) is EventOutcome.DUPLICATE
    card = await card_of(app, user)
    assert card is not None and card.last4 == "4242"
    assert setups.calls == [("seti_1", cus), ("seti_1", cus)]  # repeating it is harmless


async def test_a_customer_we_do_not_know_is_not_ours(app: App) -> None:
    setups = with_setups(app)
    setups.saved["seti_1"] = OK
    event = setup_completed("cus_elsewhere", "seti_1")
    assert await app.handle(event) is EventOutcome.NOT_OURS
    assert await app.handle(event) is EventOutcome.DUPLICATE


async def test_another_apps_setup_session_is_left_alone(app: App) -> None:
    setups = with_setups(app)
    user, cus = await customer(app)
    setups.saved["seti_1"] = OK
    event = setup_completed(cus, "seti_1", metadata={"purpose": "something_else"})
    assert await app.handle(event) is EventOutcome.NOT_OURS
    assert setups.calls == []
    assert await card_of(app, user) is None


async def test_a_setup_intent_the_gateway_does_not_know_is_not_ours(app: App) -> None:
    with_setups(app)
    user, cus = await customer(app)
    assert await app.handle(setup_completed(cus, "seti_missing")) is EventOutcome.NOT_OURS
    assert await card_of(app, user) is None


async def test_the_sandbox_setup_page_already_saved_the_card(app: App) -> None:
    user, cus = await customer(app)
    await app.gateway.save_card(cus, OK)
    assert await app.handle(setup_completed(cus, "seti_sandbox")) is EventOutcome.UPDATED
    card = await card_of(app, user)
    assert card is not None and card.last4 == "4242"
