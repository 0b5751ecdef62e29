"""The whole referral story over HTTP, with the sandbox gateway and its signed webhooks.

A refers B, B buys $10: B has 2000 credits and A 1000. B's payment is fully refunded
through ``POST /api/stripe/refund``: both bonuses are reversed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, FRONTEND_URL, Api, User

pytestmark = pytest.mark.postgres


async def referral_code(api: Api, user: User) -> dict[str, Any]:
    response = await api.http.get("/api/referrals/code", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def sign_up_with(api: Api, email: str, code: str) -> User:
    body = {"email": email, "referred_by_code": code}
    response = await api.http.post("/api/users", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created = response.json()
    return User(created["user_id"], created["email"], created["api_key"])


async def buy(api: Api, user: User, amount: int = 1000) -> str:
    created = await api.checkout(user, amount)
    await api.pay(created["session_id"])
    payment_id: str = created["payment_id"]
    return payment_id


async def stats(api: Api, user: User) -> dict[str, Any]:
    response = await api.http.get("/api/referrals/stats", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_refers_b_b_buys_ten_dollars_then_is_refunded(api: Api) -> None:
    a = await api.create_user("a@example.com")
    code = await referral_code(api, a)
    assert code["invite_url"] == f"{FRONTEND_URL}/signup?ref={code['code']}"
    b = await sign_up_with(api, "b@example.com", code["code"])

    payment_id = await buy(api, b, 1000)
    assert await api.credits(b) == 2000
    assert await api.credits(a) == 1000
    assert (await stats(api, a))["completed"] == 1
    assert (await stats(api, a))["credits_earned"] == 1000

    refunded = await api.refund(payment_id)
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["credits_reversed"] == 1000
    assert await api.credits(b) == 0
    assert await api.credits(a) == 0
    kinds = [(t["kind"], t["credits"]) for t in await api.transactions(a)]
    assert kinds == [("bonus_reversal", -1000), ("referral_bonus", 1000)]
    after = await stats(api, a)
    assert (after["completed"], after["reversed"], after["credits_earned"]) == (0, 1, 0)


async def test_apply_until_the_first_purchase_with_stable_error_codes(api: Api) -> None:
    a, b = await api.create_user(), await api.create_user()
    a_code = (await referral_code(api, a))["code"]

    async def apply(user: User, code: str) -> tuple[int, Any]:
        response = await api.http.post(
            "/api/referrals/apply", json={"code": code}, headers=user.headers
        )
        return response.status_code, response.json()

    status, body = await apply(a, a_code)
    assert (status, body["error"]["code"]) == (422, "own_referral_code")
    status, body = await apply(b, "ZZZZ2222")
    assert (status, body["error"]["code"]) == (400, "unknown_referral_code")
    status, body = await apply(b, a_code.lower())
    assert (status, body) == (200, {**body, "code": a_code, "status": "pending"})
    status, body = await apply(b, a_code)
    assert (status, body["error"]["code"]) == (409, "referral_already_applied")
    me = (await api.http.get("/api/users/me", headers=b.headers)).json()
    assert me["referred_by"] == a.id

    late = await api.create_user()
    await buy(api, late, 500)
    status, body = await apply(late, a_code)
    assert (status, body["error"]["code"]) == (422, "referral_window_closed")

    await buy(api, b, 999)  # under the minimum: eligibility ends
    await buy(api, b, 2000)
    assert await api.credits(a) == 0
    assert (await stats(api, a))["ineligible"] == 1
