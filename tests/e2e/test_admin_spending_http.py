"""The operator's view of spending, disputes and subscriptions over HTTP.

Holds placed and captured through the spending API and a dispute lost through the
webhook show in the user's view and in the summary: captures are spent credits, and
the money lost to the dispute is ``disputed`` and leaves ``net``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, Api, AppUnderTest, PaymentRef, User, client_of, make_app
from tests.e2e.subscription_api import (  # noqa: F401 (fixtures)
    Subs,
    subs_app_fixture,
    subs_fixture,
    when,
)
from tests.e2e.test_spending_http import LIFECYCLE, SERVICE, SERVICE_KEY, _dispute


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def spend_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    under_test: AppUnderTest = make_app(url, SERVICE_API_KEYS=SERVICE_KEY)
    async with client_of(under_test) as api:
        yield api


async def funded(api: Api, amount: int = 1000) -> tuple[User, PaymentRef]:
    user, ref = await api.new_checkout(amount)
    await api.pay(ref.session_id or "")
    return user, await api.payment_ref(user, ref.payment_id)


async def hold(api: Api, user: User, credits: int, key: str) -> Any:
    body = {"user_id": user.id, "credits": credits, "idempotency_key": key, "ttl_seconds": 600}
    placed = await api.http.post("/api/credits/holds", json=body, headers=SERVICE)
    assert placed.status_code == 201, placed.text
    return placed.json()


async def sections(api: Api, user: User) -> dict[str, Any]:
    view = await api.http.get(f"/api/admin/users/{user.id}", headers=ADMIN)
    assert view.status_code == 200, view.text
    found: dict[str, Any] = view.json()["sections"]
    return found


async def user_page(api: Api, user: User) -> str:
    """The admin page's user view, signed in with the admin key."""
    form = await api.http.get("/admin/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None, form.text
    signed = {"csrf": found.group(1), "api_key": ADMIN["Authorization"].removeprefix("Bearer ")}
    await api.http.post("/admin/login", data=signed)
    shown = await api.http.get(f"/admin/users/{user.id}")
    assert shown.status_code == 200 and user.email in shown.text, shown.text
    return shown.text


async def test_holds_and_a_lost_dispute_in_the_view_and_the_summary(spend_api: Api) -> None:
    spender, _ = await funded(spend_api)
    kept = await hold(spend_api, spender, 200, "kept")
    taken = await hold(spend_api, spender, 150, "taken")
    capture = f"/api/credits/holds/{taken['id']}/capture"
    captured = await spend_api.http.post(capture, json={"credits": 100}, headers=SERVICE)
    assert captured.status_code == 200, captured.text
    disputer, ref = await funded(spend_api)
    dispute_id = f"du_{uuid.uuid4().hex[:12]}"
    for event_type, status in LIFECYCLE:
        await spend_api.deliver(_dispute(ref, event_type, dispute_id, status))

    shown = await sections(spend_api, spender)
    assert shown["holds"]["credits"] == 200
    assert [(h["id"], h["credits"], h["kind"]) for h in shown["holds"]["rows"]] == [
        (kept["id"], 200, "usage")
    ]
    assert shown["holds"]["rows"][0]["expires_at"]
    assert "disputes" not in shown and "subscription" not in shown
    lost = await sections(spend_api, disputer)
    assert lost["disputes"] == {
        "rows": [{"id": dispute_id, "payment": ref.payment_id, "status": "lost"}]
    }
    assert "holds" not in lost

    html = await user_page(spend_api, spender)
    table = re.search(r'<table data-testid="holds">.*?</table>', html, re.S)
    assert table is not None and kept["id"] in table.group() and taken["id"] not in table.group()

    summary = (await spend_api.http.get("/api/admin/summary", headers=ADMIN)).json()
    (usd,) = summary["money"]
    assert (usd["gross"], usd["refunded"], usd["disputed"], usd["net"]) == (2000, 0, 1000, 1000)
    assert summary["credits_spent"] == 100
    kinds = {k["kind"]: (k["added"], k["removed"]) for k in summary["credits_by_kind"]}
    assert kinds["hold_capture"] == (0, 100)
    assert kinds["dispute_reversal"] == (0, 1000)


@pytest.mark.postgres
async def test_a_subscription_in_the_view(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "basic")
    shown = (await subs.api.http.get(f"/api/admin/users/{user.id}", headers=ADMIN)).json()
    section = shown["sections"]["subscription"]
    assert {k: v for k, v in section.items() if not k.startswith("current_period")} == {
        "id": sub["id"],
        "plan": "basic",
        "status": "active",
        "cancel_at_period_end": False,
    }
    for bound in ("current_period_start", "current_period_end"):
        assert when(section[bound]) == when(sub[bound])
    summary = (await subs.api.http.get("/api/admin/summary", headers=ADMIN)).json()
    assert summary["credits_granted"]["subscription_grant"] == 1000
