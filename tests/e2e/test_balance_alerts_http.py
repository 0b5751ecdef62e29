"""Alert settings over HTTP (the user's own, and a service's on behalf of a user), and
the balance's runway, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import ADMIN, Api, AppUnderTest, client_of, make_app

SERVICE_KEY = "e2e-service-key-0123456789"
SERVICE = {"Authorization": f"Bearer {SERVICE_KEY}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def alert_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    under_test: AppUnderTest = make_app(url, SERVICE_API_KEYS=SERVICE_KEY)
    async with client_of(under_test) as api:
        yield api


async def outbound(api: Api, type_: str, user_id: str) -> list[dict]:
    query = {"type": type_, "user_id": user_id}
    response = await api.http.get("/api/admin/outbound-events", params=query, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


async def test_settings_alerts_and_runway(alert_api: Api) -> None:
    api = alert_api
    user, ref = await api.new_checkout(1000)
    await api.pay(ref.session_id or "")
    credits = await api.credits(user)
    assert (await api.balance(user))["runway_days"] is None

    mine = await api.http.patch(
        "/api/users/me/settings", json={"low_balance_threshold": 500}, headers=user.headers
    )
    assert mine.status_code == 200, mine.text
    assert mine.json() == {"low_balance_threshold": 500, "runway_alert_days": None}
    theirs = await api.http.patch(
        f"/api/credits/settings/{user.id}", json={"runway_alert_days": 3}, headers=SERVICE
    )
    assert theirs.json() == {"low_balance_threshold": 500, "runway_alert_days": 3}
    denied = await api.http.patch(
        f"/api/credits/settings/{user.id}", json={"runway_alert_days": 3}, headers=user.headers
    )
    assert denied.status_code == 403
    bad = await api.http.patch(
        "/api/users/me/settings", json={"low_balance_threshold": 0}, headers=user.headers
    )
    assert bad.status_code in (400, 422)

    for key in ("a", "b"):
        body = {"user_id": user.id, "credits": credits // 2 - 1, "idempotency_key": key}
        debited = await api.http.post("/api/credits/debit", json=body, headers=SERVICE)
        assert debited.status_code == 200, debited.text

    assert len(await outbound(api, "credits.low_balance", user.id)) == 1
    assert len(await outbound(api, "credits.runway_low", user.id)) == 1
    balance = await api.balance(user)
    assert balance["runway_days"] == pytest.approx(7 * 2 / (credits - 2), abs=0.05)


async def test_a_service_cannot_set_alerts_of_an_unknown_user(alert_api: Api) -> None:
    response = await alert_api.http.patch(
        "/api/credits/settings/nobody", json={"low_balance_threshold": 5}, headers=SERVICE
    )
    assert response.status_code == 404
