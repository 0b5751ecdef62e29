"""The operator API over HTTP: every endpoint, its limits and codes, and who is refused.

A purchase made through the sandbox and refunded by the admin shows up in the
summary, the series and the payments (JSON and CSV) exactly as paid.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, Api, AppUnderTest, client_of, make_app

ROUTES: list[tuple[str, str]] = [
    ("POST", "/api/admin/credits/adjust"),
    ("GET", "/api/admin/users"),
    ("GET", "/api/admin/users/usr_x"),
    ("GET", "/api/admin/users/usr_x/ledger"),
    ("GET", "/api/admin/payments"),
    ("GET", "/api/admin/payments?format=csv"),
    ("GET", "/api/admin/summary"),
    ("GET", "/api/admin/timeseries?metric=gross"),
    ("POST", "/api/admin/ledger/verify"),
    ("POST", "/api/admin/reconcile"),
]


@pytest.fixture
def limited_app(sqlite_url: str) -> AppUnderTest:
    return make_app(sqlite_url, ADMIN_MAX_GRANT="1000", ADMIN_DAILY_GRANT_LIMIT="1500")


async def paid_and_refunded(api: Api) -> tuple[Any, str]:
    user = await api.create_user()
    created = await api.checkout(user, 2500)
    await api.pay(created["session_id"])
    response = await api.refund(created["payment_id"], 500)
    assert response.status_code == 200, response.text
    return user, created["payment_id"]


def body(user_id: str, credits: int, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "credits": credits,
        "reason": "support ticket 42",
        "idempotency_key": key,
        **extra,
    }


async def test_a_user_key_is_refused_and_no_key_is_unauthenticated(any_api: Api) -> None:
    user = await any_api.create_user()
    for method, path in ROUTES:
        as_user = await any_api.http.request(method, path, headers=user.headers, json={})
        assert (as_user.status_code, as_user.json()["error"]["code"]) == (403, "forbidden"), path
        anonymous = await any_api.http.request(method, path, json={})
        assert anonymous.status_code == 401, path


async def test_adjust_grants_takes_back_and_replays(any_api: Api) -> None:
    user = await any_api.create_user()
    http = any_api.http
    granted = await http.post(
        "/api/admin/credits/adjust", json=body(user.id, 700, "k1"), headers=ADMIN
    )
    assert granted.status_code == 200, granted.text
    first = granted.json()
    assert (first["balance_after"], first["replayed"]) == (700, False)
    assert first["admin_key_id"].startswith("operator_")
    again = await http.post(
        "/api/admin/credits/adjust", json=body(user.id, 700, "k1"), headers=ADMIN
    )
    assert again.json() == {**first, "replayed": True}
    reused = await http.post(
        "/api/admin/credits/adjust", json=body(user.id, 5, "k1"), headers=ADMIN
    )
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "idempotency_key_reused")
    over = await http.post(
        "/api/admin/credits/adjust", json=body(user.id, -800, "k2"), headers=ADMIN
    )
    assert (over.status_code, over.json()["error"]["code"]) == (402, "insufficient_credits")
    debt = await http.post(
        "/api/admin/credits/adjust", json=body(user.id, -800, "k3", allow_debt=True), headers=ADMIN
    )
    assert debt.json()["balance_after"] == -100
    assert await any_api.credits(user) == -100
    kinds = [t["kind"] for t in await any_api.transactions(user)]
    assert kinds == ["admin_adjustment", "admin_adjustment"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"reason": "short"}, 400, "validation_error"),
        ({"credits": 0}, 422, "zero_credits"),
        ({"reason": "   padded   "}, 422, "reason_too_short"),
        ({"user_id": "usr_nobody"}, 404, "not_found"),
        ({"surprise": 1}, 400, "validation_error"),
    ],
)
async def test_adjust_refuses_bad_requests(
    any_api: Api, change: dict[str, Any], status: int, code: str
) -> None:
    user = await any_api.create_user()
    response = await any_api.http.post(
        "/api/admin/credits/adjust", json={**body(user.id, 10, "k"), **change}, headers=ADMIN
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_grants_are_capped_by_the_settings(limited_app: AppUnderTest) -> None:
    async with client_of(limited_app) as api:
        user = await api.create_user()
        post = api.http.post
        big = await post("/api/admin/credits/adjust", json=body(user.id, 1001, "a"), headers=ADMIN)
        assert (big.status_code, big.json()["error"]["code"]) == (422, "admin_grant_too_large")
        ok = await post("/api/admin/credits/adjust", json=body(user.id, 1000, "b"), headers=ADMIN)
        assert ok.status_code == 200
        day = await post("/api/admin/credits/adjust", json=body(user.id, 501, "c"), headers=ADMIN)
        assert (day.status_code, day.json()["error"]["code"]) == (422, "admin_daily_grant_limit")


async def test_users_search_view_and_ledger(any_api: Api) -> None:
    user, payment_id = await paid_and_refunded(any_api)
    http = any_api.http
    found = (await http.get("/api/admin/users", params={"email": user.email}, headers=ADMIN)).json()
    assert [r["user"]["id"] for r in found["users"]] == [user.id]
    assert found["users"][0]["balance"]["credits"] == 2000
    part = await http.get("/api/admin/users", params={"q": user.email[2:10]}, headers=ADMIN)
    assert user.id in [r["user"]["id"] for r in part.json()["users"]]
    view = (await http.get(f"/api/admin/users/{user.id}", headers=ADMIN)).json()
    assert [p["id"] for p in view["recent_payments"]] == [payment_id]
    assert view["balance"] == {
        "user_id": user.id,
        "credits": 2000,
        "balance_usd": "20.00",
        "available_credits": 2000,
        "held_credits": 0,
    }
    assert "referral" in view["sections"]
    ledger = (
        await http.get(f"/api/admin/users/{user.id}/ledger", params={"limit": 1}, headers=ADMIN)
    ).json()
    assert [t["kind"] for t in ledger["transactions"]] == ["refund_reversal"]
    assert ledger["next_cursor"]
    missing = await http.get("/api/admin/users/usr_nobody", headers=ADMIN)
    assert missing.status_code == 404


async def test_payments_as_pages_and_as_csv(any_api: Api) -> None:
    user, payment_id = await paid_and_refunded(any_api)
    http = any_api.http
    page = (
        await http.get(
            "/api/admin/payments",
            params={"user_id": user.id, "status": "partially_refunded"},
            headers=ADMIN,
        )
    ).json()
    assert [p["id"] for p in page["payments"]] == [payment_id]
    for how in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        headers = {**ADMIN, **how.get("headers", {})}
        params = {"user_id": user.id, **how.get("params", {})}
        response = await http.get("/api/admin/payments", params=params, headers=headers)
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(r["id"], r["amount"], r["amount_refunded"]) for r in rows] == [
            (payment_id, "2500", "500")
        ]
    bad = await http.get("/api/admin/payments", params={"status": "nope"}, headers=ADMIN)
    assert bad.status_code == 400


async def test_summary_and_timeseries_show_the_purchase_and_refund(any_api: Api) -> None:
    before = (await any_api.http.get("/api/admin/summary", headers=ADMIN)).json()
    await paid_and_refunded(any_api)
    after = (await any_api.http.get("/api/admin/summary", headers=ADMIN)).json()

    def usd(summary: dict[str, Any]) -> dict[str, int]:
        rows = [m for m in summary["money"] if m["currency"] == "usd"]
        return rows[0] if rows else {"gross": 0, "refunded": 0, "net": 0}

    assert usd(after)["gross"] - usd(before)["gross"] == 2500
    assert usd(after)["refunded"] - usd(before)["refunded"] == 500
    assert after["outstanding"]["credits"] - before["outstanding"]["credits"] == 2000
    assert after["outstanding"]["usd"]
    verify = (await any_api.http.post("/api/admin/ledger/verify", headers=ADMIN)).json()
    assert verify["ok"] is True
    today = datetime.now(UTC).date()
    series = (
        await any_api.http.get(
            "/api/admin/timeseries",
            params={"metric": "gross", "from": (today - timedelta(days=2)).isoformat()},
            headers=ADMIN,
        )
    ).json()
    assert series["points"][-1]["value"] >= 2500 and len(series["points"]) == 3
    for params, status in (
        ({"metric": "gross", "interval": "week"}, 400),
        ({"metric": "x"}, 400),
        ({"metric": "gross", "from": "2026-01-01T00:00:00"}, 400),  # no zone
        ({"metric": "gross", "from": "2026-02-30"}, 422),
        ({"metric": "gross", "from": "2025-01-01", "to": "2026-06-01"}, 422),
    ):
        bad = await any_api.http.get("/api/admin/timeseries", params=params, headers=ADMIN)
        assert bad.status_code == status, (params, bad.text)


async def test_reconcile_is_a_dry_run_report(any_api: Api) -> None:
    await paid_and_refunded(any_api)
    report = (
        await any_api.http.post("/api/admin/reconcile", params={"since": "1h"}, headers=ADMIN)
    ).json()
    assert report["job"] == "reconcile" and report["ok"] is True
    assert "repaired" not in report["counts"]
    bad = await any_api.http.post("/api/admin/reconcile", params={"since": "1y"}, headers=ADMIN)
    assert bad.status_code == 400
    long = await any_api.http.post("/api/admin/reconcile", params={"since": "99d"}, headers=ADMIN)
    assert (long.status_code, long.json()["error"]["code"]) == (422, "invalid_since")


async def test_an_admin_users_key_acts_under_its_own_id(any_api: Api) -> None:
    admin = await any_api.create_user(is_admin=True)
    user = await any_api.create_user()
    done = await any_api.http.post(
        "/api/admin/credits/adjust", json=body(user.id, 10, "x"), headers=admin.headers
    )
    assert done.json()["admin_key_id"].startswith("key_")
