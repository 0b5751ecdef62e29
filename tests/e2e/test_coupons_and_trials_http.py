"""Coupons (admin and user endpoints) and trial state over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN, Api, AppUnderTest, User, client_of, make_app

COUPONS = "/api/admin/coupons"


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def create(api: Api, body: dict[str, Any], headers: dict[str, str] = ADMIN) -> httpx.Response:
    return await api.http.post(COUPONS, json=body, headers=headers)


async def redeem(api: Api, user: User, code: str) -> httpx.Response:
    return await api.http.post("/api/coupons/redeem", json={"code": code}, headers=user.headers)


async def change(api: Api, code: str, body: dict[str, Any]) -> httpx.Response:
    return await api.http.patch(f"{COUPONS}/{code}", json=body, headers=ADMIN)


async def test_coupon_life_cycle(any_api: Api) -> None:
    api = any_api
    user, other = await api.create_user(), await api.create_user()
    created = await create(api, {"code": "Spring-26", "credits": 700, "max_redemptions": 5})
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "SPRING-26"

    redeemed = await redeem(api, user, "spring-26")
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["balance"] == 700
    assert error_of(await redeem(api, user, "SPRING-26")) == (409, "coupon_already_redeemed")
    assert error_of(await redeem(api, user, "nope")) == (404, "coupon_not_found")

    patched = await change(api, "spring-26", {"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert error_of(await redeem(api, other, "SPRING-26")) == (422, "coupon_inactive")

    details = (await api.http.get(f"{COUPONS}/SPRING-26", headers=ADMIN)).json()
    assert [r["user_id"] for r in details["redemptions"]] == [user.id]
    assert details["coupon"]["redemptions"] == 1
    listed = (await api.http.get(COUPONS, headers=ADMIN)).json()
    assert [c["code"] for c in listed["coupons"]] == ["SPRING-26"]
    history = (await api.http.get("/api/coupons/history", headers=user.headers)).json()
    assert [(r["code"], r["credits"]) for r in history["redemptions"]] == [("SPRING-26", 700)]
    others = (await api.http.get("/api/coupons/history", headers=other.headers)).json()
    assert others["redemptions"] == []


async def test_coupon_requests_are_checked(any_api: Api) -> None:
    api = any_api
    user = await api.create_user()
    ok = {"code": "TEN", "credits": 10, "valid_until": "2099-01-01T00:00:00Z"}
    assert (await create(api, ok)).status_code == 201
    assert error_of(await create(api, {**ok, "code": "ten"})) == (409, "coupon_code_taken")
    assert (await create(api, {"code": "no spaces", "credits": 1})).status_code == 400
    assert (
        await create(api, {**ok, "code": "NAIVE", "valid_until": "2099-01-01T00:00"})
    ).status_code == 400
    assert (
        await create(api, {**ok, "code": "MORE", "credits": 1, "user_id": "x"})
    ).status_code == 400
    assert (await create(api, ok, headers=user.headers)).status_code == 403
    assert error_of(await create(api, {**ok, "code": "MINE", "assigned_user_id": "usr_x"})) == (
        400,
        "unknown_user",
    )

    cleared = await change(api, "ten", {"valid_until": None, "max_redemptions": 1})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["valid_until"], cleared.json()["credits"]) == (None, 10)
    assert (await change(api, "ten", {"code": "ELEVEN"})).status_code == 400
    assert (await change(api, "missing", {"active": False})).status_code == 404


@pytest.fixture
async def trial_api(sqlite_url: str) -> AsyncIterator[Api]:
    under_test: AppUnderTest = make_app(sqlite_url, TRIAL_CREDITS="250", TRIAL_DAYS="3")
    async with client_of(under_test) as api:
        yield api


async def test_trial_state_on_the_profile(trial_api: Api) -> None:
    api = trial_api
    jane = await api.create_user("Jane.Doe@gmail.com")
    again = await api.create_user("janedoe+2@gmail.com")
    me = (await api.http.get("/api/users/me", headers=jane.headers)).json()
    assert (me["trial"]["credits"], me["trial"]["status"]) == (250, "active")
    assert await api.credits(jane) == 250
    assert (await api.http.get("/api/users/me", headers=again.headers)).json()["trial"] is None
    created = await api.checkout(jane, 1000)
    await api.pay(created["session_id"])
    me = (await api.http.get("/api/users/me", headers=jane.headers)).json()
    assert me["trial"]["status"] == "converted"
