"""Hostile bodies and NUL bytes are refused with a 400, never a 5xx.

A body nesting 100,000 arrays made the JSON decoder raise ``RecursionError`` (a 500
with a logged traceback, reached without any key: bodies were decoded before the
caller was authenticated). A NUL byte in any string reached PostgreSQL, which
refuses it in text, and the driver's error was answered as an outage (503).
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import ADMIN, Api, encode, new_event_id, signature

DEEP = b"[" * 100_000 + b"]" * 100_000
JUST_TOO_DEEP = b'{"name": ' + b"[" * 64 + b"]" * 64 + b"}"

USER_BODIES = [
    ("POST", "/api/stripe/checkout-session"),
    ("POST", "/api/stripe/payment-intent"),
    ("POST", "/api/users/me/api-keys"),
    ("POST", "/api/referrals/apply"),
    ("POST", "/api/coupons/redeem"),
]
ADMIN_BODIES = [
    ("POST", "/api/users"),
    ("POST", "/api/stripe/refund"),
    ("POST", "/api/admin/coupons"),
    ("PATCH", "/api/admin/coupons/SOME"),
]
JSON = {"Content-Type": "application/json"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


# ---- nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), USER_BODIES + ADMIN_BODIES)
async def test_a_deep_body_without_a_key_is_401_before_it_is_read(
    api: Api, method: str, path: str
) -> None:
    response = await api.http.request(method, path, content=DEEP, headers=JSON)
    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize(("method", "path"), USER_BODIES)
async def test_a_deep_body_from_a_user_is_malformed_json(api: Api, method: str, path: str) -> None:
    user = await api.create_user()
    for body in (DEEP, JUST_TOO_DEEP):
        response = await api.http.request(
            method, path, content=body, headers={**JSON, **user.headers}
        )
        assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(("method", "path"), ADMIN_BODIES)
async def test_a_deep_body_from_an_admin_is_malformed_json(
    api: Api, method: str, path: str
) -> None:
    response = await api.http.request(method, path, content=DEEP, headers={**JSON, **ADMIN})
    assert_error(response, 400, "malformed_json")


async def test_a_deep_body_on_a_public_sandbox_page_is_malformed_json(api: Api) -> None:
    user = await api.create_user()
    session = await api.checkout(user, 1000)
    response = await api.http.post(
        f"/sandbox/checkout/{session['session_id']}/pay", content=DEEP, headers=JSON
    )
    assert_error(response, 400, "malformed_json")


async def test_a_deep_but_signed_webhook_is_a_400(api: Api) -> None:
    body = b'{"id": "' + new_event_id().encode() + b'", "data": ' + DEEP + b"}"
    response = await api.post_webhook(body, signature(body))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_event"


async def test_a_webhook_nesting_past_the_bound_is_a_400(api: Api) -> None:
    nested: object = {}
    for _ in range(70):
        nested = {"x": nested}
    body = encode({"id": new_event_id(), "type": "x.y", "data": {"object": nested}})
    response = await api.post_webhook(body, signature(body))
    assert response.status_code == 400, response.text


# ---- NUL bytes ----------------------------------------------------------------------------

NUL = "a\x00b"


async def test_a_nul_in_a_users_body_fields_is_a_400(api: Api) -> None:
    user = await api.create_user()
    attempts = [
        ("/api/stripe/checkout-session", {"amount": 1000, "currency": "usd", "description": NUL}),
        ("/api/stripe/payment-intent", {"amount": 1000, "currency": "usd", "description": NUL}),
        ("/api/users/me/api-keys", {"name": NUL}),
        ("/api/referrals/apply", {"code": "AB\x00CD"}),
        ("/api/coupons/redeem", {"code": "AB\x00CD"}),
    ]
    for path, body in attempts:
        response = await api.http.post(path, json=body, headers=user.headers)
        assert_error(response, 400, "validation_error")


async def test_a_nul_in_an_admins_body_fields_is_a_400(api: Api) -> None:
    attempts = [
        ("POST", "/api/users", {"email": "a\x00b@example.com"}),
        ("POST", "/api/stripe/refund", {"payment_id": "pay_\x00"}),
        ("POST", "/api/admin/coupons", {"code": "NUL\x00", "credits": 5}),
        ("POST", "/api/admin/coupons", {"code": "OK1", "credits": 5, "assigned_user_id": NUL}),
    ]
    for method, path, body in attempts:
        response = await api.http.request(method, path, json=body, headers=ADMIN)
        assert_error(response, 400, "validation_error")


async def test_a_nul_in_a_path_id_is_a_400(api: Api) -> None:
    user = await api.create_user()
    for method, path, headers in [
        ("GET", "/api/stripe/payments/pay_%00x", user.headers),
        ("GET", "/api/stripe/checkout-session/cs_%00x", user.headers),
        ("GET", "/api/stripe/payment-intent/pi_%00x", user.headers),
        ("DELETE", "/api/users/me/api-keys/key_%00x", user.headers),
        ("GET", "/api/admin/coupons/A%00B", ADMIN),
    ]:
        response = await api.http.request(method, path, headers=headers)
        assert_error(response, 400, "validation_error")


async def test_a_nul_in_a_query_parameter_is_a_400(api: Api) -> None:
    user = await api.create_user()
    for path in ("/api/stripe/payments", "/user/credit-transactions", "/api/coupons/history"):
        response = await api.http.get(path, params={"cursor": NUL}, headers=user.headers)
        assert_error(response, 400, "validation_error")


async def test_a_nul_in_the_idempotency_key_is_a_400(api: Api) -> None:
    user = await api.create_user()
    response = await api.http.post(
        "/api/stripe/checkout-session",
        json={"amount": 1000, "currency": "usd"},
        headers={**user.headers, "Idempotency-Key": "k\x00ey"},
    )
    assert_error(response, 400, "validation_error")
