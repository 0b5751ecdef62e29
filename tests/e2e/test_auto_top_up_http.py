"""Auto top-up over HTTP on the sandbox: settings, a debit crossing the threshold, the
worker's off-session charge, and this month's top-ups (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.clock import SystemClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import run_auto_top_ups
from application.batch import JobReport
from tests.e2e.conftest import ADMIN, PUBLIC_URL, Api, AppUnderTest, User, client_of, make_app

SERVICE_KEY = "e2e-service-key-0123456789"
SERVICE = {"Authorization": f"Bearer {SERVICE_KEY}"}
SETTINGS = {"enabled": True, "threshold_credits": 500, "amount": 1000, "monthly_limit": 3000}
AUTHENTICATES = "4000 0027 6000 3184"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def top_up_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    under_test: AppUnderTest = make_app(url, SERVICE_API_KEYS=SERVICE_KEY)
    async with client_of(under_test) as api:
        yield api


async def test_a_debit_below_the_threshold_tops_up_from_the_saved_card(sqlite_url: str) -> None:
    """SQLite only: the worker runs on this test's loop, which a PostgreSQL sandbox store
    bound to the app's loop cannot serve (tests/integration/test_auto_top_up_concurrency
    runs the worker on PostgreSQL). Charged by the batch job alone: serve's is off."""
    async with client_of(batch_only(sqlite_url)) as api:
        await _tops_up(api)


def batch_only(database_url: str) -> AppUnderTest:
    """The app with serve's background auto top-up off: this test's ``work`` charges."""
    return make_app(database_url, SERVICE_API_KEYS=SERVICE_KEY, AUTO_TOP_UP_IN_SERVE="false")


async def save_card(api: Api, user: User, card: str) -> None:
    """As the user does: open the setup Checkout, type the card on its page."""
    setup = await api.http.post("/api/stripe/payment-methods/setup", headers=user.headers)
    assert setup.status_code == 200, setup.text
    paid = await api.http.post(
        f"/sandbox/checkout/{setup.json()['session_id']}/pay", json={"card_number": card}
    )
    assert paid.status_code == 200, paid.text


async def work(api: Api) -> JobReport:
    """One pass of the worker, on this test's event loop (its own engine)."""
    engine = make_engine(api.under_test.database_url)
    checkout = api.under_test.container.use_cases.checkout_settings()
    try:
        return await run_auto_top_ups(
            uow_factory=uow_factory(engine),
            gateway=api.sandbox,
            clock=SystemClock(),
            terms=TopUpTerms(checkout.pricing, checkout.expires_in, checkout.redirects),
        )
    finally:
        await engine.dispose()


async def _crossing(api: Api) -> tuple[User, int]:
    """A user with a saved card and auto top-up on, whose debit leaves 100 credits: one
    top-up requested. Returns the user and their credits before the debit."""
    user, ref = await api.new_checkout(1000)
    await api.pay(ref.session_id or "")
    credits = await api.credits(user)
    unset = await api.http.get("/api/users/me/auto-top-up", headers=user.headers)
    assert unset.json()["enabled"] is False
    bad = await api.http.put(
        "/api/users/me/auto-top-up", json={**SETTINGS, "monthly_limit": 10}, headers=user.headers
    )
    assert bad.status_code in (400, 422)
    put = await api.http.put("/api/users/me/auto-top-up", json=SETTINGS, headers=user.headers)
    assert put.status_code == 200, put.text
    await save_card(api, user, "4242 4242 4242 4242")

    body = {"user_id": user.id, "credits": credits - 100, "idempotency_key": "big"}
    debited = await api.http.post("/api/credits/debit", json=body, headers=SERVICE)
    assert debited.status_code == 200, debited.text
    return user, credits


async def _statuses(api: Api, user: User) -> list[str]:
    shown = (await api.http.get("/api/users/me/auto-top-up", headers=user.headers)).json()
    return [t["status"] for t in shown["this_month"]]


async def _tops_up(api: Api) -> None:
    user, credits = await _crossing(api)
    report = await work(api)

    assert dict(report.counts) == {"succeeded": 1}
    assert await api.credits(user) == 100 + credits
    shown = (await api.http.get("/api/users/me/auto-top-up", headers=user.headers)).json()
    assert [t["status"] for t in shown["this_month"]] == ["succeeded"]
    assert shown["charged_this_month"] == 1000


async def test_a_card_is_saved_through_the_setup_checkout_shown_and_removed(
    top_up_api: Api,
) -> None:
    api = top_up_api
    user = await api.create_user()
    none = await api.http.get("/api/stripe/payment-methods", headers=user.headers)
    assert (none.status_code, none.json()) == (200, {"card": None})

    setup = await api.http.post("/api/stripe/payment-methods/setup", headers=user.headers)
    assert setup.status_code == 200, setup.text
    session_id = setup.json()["session_id"]
    assert setup.json()["url"].endswith(f"/sandbox/checkout/{session_id}")
    page = await api.http.get(f"/sandbox/checkout/{session_id}")
    assert page.status_code == 200
    paid = await api.http.post(
        f"/sandbox/checkout/{session_id}/pay", json={"card_number": "4000 0000 0000 0341"}
    )
    assert paid.status_code == 200, paid.text

    shown = await api.http.get("/api/stripe/payment-methods", headers=user.headers)
    assert shown.json() == {"card": {"brand": "visa", "last4": "0341"}}
    removed = await api.http.delete("/api/stripe/payment-methods", headers=user.headers)
    assert removed.status_code == 204
    gone = await api.http.get("/api/stripe/payment-methods", headers=user.headers)
    assert gone.json() == {"card": None}


async def outbound(api: Api, user: User, type_: str) -> list[dict[str, Any]]:
    query = {"type": type_, "user_id": user.id}
    response = await api.http.get("/api/admin/outbound-events", params=query, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


async def test_a_card_that_needs_its_holder_gets_a_page_that_completes_the_top_up(
    sqlite_url: str,
) -> None:
    """SQLite only, as above. The card asks for authentication off-session; the user
    opens the link of ``auto_top_up.action_required``, pays there (the page asks for
    3-D Secure again, on-session), and the top-up completes once."""
    async with client_of(batch_only(sqlite_url)) as api:
        user, ref = await api.new_checkout(1000)
        await api.pay(ref.session_id or "")
        credits = await api.credits(user)
        await save_card(api, user, AUTHENTICATES)
        put = await api.http.put("/api/users/me/auto-top-up", json=SETTINGS, headers=user.headers)
        assert put.status_code == 200, put.text
        body = {"user_id": user.id, "credits": credits - 100, "idempotency_key": "big"}
        debited = await api.http.post("/api/credits/debit", json=body, headers=SERVICE)
        assert debited.status_code == 200, debited.text

        report = await work(api)

        assert dict(report.counts) == {"authentication_required": 1}
        (action,) = await outbound(api, user, "auto_top_up.action_required")
        url = str(action["data"]["url"])
        assert url.startswith(f"{PUBLIC_URL}/sandbox/checkout/cs_test_")
        page = await api.http.get(url.removeprefix(PUBLIC_URL))
        assert page.status_code == 200 and "Auto top-up: 1000 credits" in page.text
        waiting = (await api.http.get("/api/users/me/auto-top-up", headers=user.headers)).json()
        (top_up,) = waiting["this_month"]
        assert (top_up["status"], top_up["action_url"]) == ("action_required", url)
        charge = await api.payment(user, top_up["payment_id"])
        assert charge["status"] == "canceled"

        session_id = url.rsplit("/", 1)[-1]
        asked = await api.http.post(
            f"/sandbox/checkout/{session_id}/pay", json={"card_number": AUTHENTICATES}
        )
        assert asked.json()["status"] == "requires_action"
        done = await api.http.post(f"/sandbox/authenticate/{session_id}", json={"succeed": True})
        assert done.json()["status"] == "succeeded", done.text
        for event in done.json()["events"]:  # Stripe delivers at least once
            await api.sandbox.redeliver(event["id"])

        assert await api.credits(user) == 100 + 1000
        shown = (await api.http.get("/api/users/me/auto-top-up", headers=user.headers)).json()
        assert [t["status"] for t in shown["this_month"]] == ["succeeded"]
        assert shown["charged_this_month"] == 1000
        (succeeded,) = await outbound(api, user, "auto_top_up.succeeded")
        assert succeeded["data"]["payment_id"] == action["data"]["payment_id"]
        paid = await api.payment(user, str(action["data"]["payment_id"]))
        assert (paid["status"], paid["credits"]) == ("completed", 1000)
        granted = [e for e in await api.transactions(user) if e["kind"] == "purchase"]
        assert len(granted) == 2  # the first purchase, and the top-up once


async def test_a_package_is_checked_and_saved_at_its_price(top_up_api: Api) -> None:
    api = top_up_api
    user = await api.create_user()
    path, headers = "/api/users/me/auto-top-up", user.headers
    growth = {"enabled": True, "threshold_credits": 500, "monthly_limit": 10000}

    unknown = await api.http.put(path, json={**growth, "package_id": "nope"}, headers=headers)
    below = await api.http.put(
        path, json={**growth, "package_id": "credits_5500", "monthly_limit": 4000}, headers=headers
    )
    other_price = await api.http.put(
        path, json={**growth, "package_id": "credits_5500", "amount": 1000}, headers=headers
    )
    unset = await api.http.get(path, headers=headers)
    saved = await api.http.put(path, json={**growth, "package_id": "credits_5500"}, headers=headers)

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_package")
    assert below.json()["error"]["code"] == "monthly_limit_below_amount"
    assert other_price.json()["error"]["code"] == "package_amount_mismatch"
    assert (unset.json()["enabled"], unset.json()["amount"]) == (False, None)
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert (shown["package_id"], shown["amount"], shown["currency"]) == (
        "credits_5500",
        5000,
        "usd",
    )


@pytest.mark.parametrize("in_serve", ["true", "false"])
async def test_serve_charges_top_ups_in_its_background_unless_turned_off(
    sqlite_url: str, in_serve: str
) -> None:
    env = {"AUTO_TOP_UP_IN_SERVE": in_serve, "AUTO_TOP_UP_INTERVAL": "1"}
    async with client_of(make_app(sqlite_url, SERVICE_API_KEYS=SERVICE_KEY, **env)) as api:
        user, credits = await _crossing(api)
        async with asyncio.timeout(10):
            while in_serve == "true" and await _statuses(api, user) != ["succeeded"]:
                await asyncio.sleep(0.1)
        if in_serve == "false":
            await asyncio.sleep(3)  # three intervals: the loop would have run

        expected = ["succeeded"] if in_serve == "true" else ["requested"]
        assert await _statuses(api, user) == expected
        assert await api.credits(user) == 100 + (credits if in_serve == "true" else 0)
