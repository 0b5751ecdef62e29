"""the HTTP contract (README, API) on PostgreSQL: auth, errors, idempotency, ownership,
refunds, API keys, health, OpenAPI and keyset pagination.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    ADMIN,
    FRONTEND_URL,
    Api,
    AppUnderTest,
    User,
    client_of,
    intent_succeeded,
    make_app,
    unreachable_database_url,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(shared_pg_app: AppUnderTest) -> AppUnderTest:
    """Every test here creates its own users and reads only theirs: no need to empty."""
    return shared_pg_app


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The one error shape: ``{"error": {"code", "message"}}``, nothing else."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def _paid_checkout(api: Api, user: User, amount: int = 1000, **fields: Any) -> str:
    created = await api.checkout(user, amount, **fields)
    await api.pay(created["session_id"])
    payment_id: str = created["payment_id"]
    return payment_id


# ---- authentication and authorisation ----

USER_ENDPOINTS = [
    ("GET", "/user/balance"),
    ("GET", "/user/credit-transactions"),
    ("GET", "/api/users/me"),
    ("GET", "/api/users/me/api-keys"),
    ("GET", "/api/stripe/payments"),
    ("GET", "/api/stripe/payments/pay_x"),
    ("POST", "/api/stripe/checkout-session"),
    ("POST", "/api/stripe/payment-intent"),
    ("POST", "/api/stripe/refund"),
    ("POST", "/api/users"),
]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer cl_not_a_key", "Bearer ", "Basic dXNlcjpwYXNz", "cl_no_scheme"],
    ids=["missing", "unknown_key", "empty", "basic", "no_scheme"],
)
async def test_without_a_valid_key_every_endpoint_answers_401(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in USER_ENDPOINTS:
        response = await api.http.request(method, path, headers=headers, json={})
        assert_error(response, 401, "unauthenticated")


async def test_admin_endpoints_refuse_a_user_key_with_403(api: Api) -> None:
    user = await api.create_user()
    payment_id = await _paid_checkout(api, user)

    create = await api.http.post(
        "/api/users", json={"email": "x@example.com"}, headers=user.headers
    )
    refund = await api.http.post(
        "/api/stripe/refund", json={"payment_id": payment_id}, headers=user.headers
    )

    assert_error(create, 403, "forbidden")
    assert_error(refund, 403, "forbidden")
    assert await api.credits(user) == 1000


async def test_a_user_with_the_admin_flag_is_an_admin(api: Api) -> None:
    admin = await api.create_user(is_admin=True)
    created = await api.http.post(
        "/api/users", json={"email": "new@example.com"}, headers=admin.headers
    )
    assert created.status_code == 201
    me = await api.http.get("/api/users/me", headers=admin.headers)
    assert me.json()["is_admin"] is True


async def test_an_operator_key_is_not_a_user(api: Api) -> None:
    assert_error(await api.http.get("/user/balance", headers=ADMIN), 400, "user_key_required")


async def test_a_new_user_gets_a_key_once_and_an_email_only_once(api: Api) -> None:
    response = await api.http.post(
        "/api/users", json={"email": "  Alice@Example.com "}, headers=ADMIN
    )
    assert response.status_code == 201
    body = response.json()
    assert sorted(body) == ["api_key", "email", "is_admin", "referral_code", "user_id"]
    assert (body["email"], body["is_admin"]) == ("alice@example.com", False)
    key = body["api_key"]
    me = await api.http.get("/api/users/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == body["user_id"]
    assert key not in me.text
    again = await api.http.post("/api/users", json={"email": "alice@example.com"}, headers=ADMIN)
    assert_error(again, 409, "email_taken")


# ---- request validation ----


@pytest.mark.parametrize(
    "body",
    [b'{"amount": 1000,', b"{amount: 1000}", b'{"amount": 1000}}', b"\xff\xfe"],
    ids=["truncated", "unquoted_key", "trailing", "not_utf8"],
)
async def test_malformed_json_is_400_malformed_json(api: Api, body: bytes) -> None:
    user = await api.create_user()
    headers = {**user.headers, "Content-Type": "application/json"}
    for path in ("/api/stripe/checkout-session", "/api/stripe/payment-intent"):
        response = await api.http.post(path, content=body, headers=headers)
        assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize("path", ["/api/stripe/checkout-session", "/api/stripe/payment-intent"])
@pytest.mark.parametrize(
    "extra",
    [
        {"credits": 1_000_000},
        {"user_id": "usr_victim"},
        {"metadata": {"user_id": "usr_victim", "credits": "1000000"}},
        {"payment_id": "pay_x"},
    ],
    ids=["credits", "user_id", "metadata", "payment_id"],
)
async def test_a_purchase_body_with_an_unknown_field_is_refused(
    api: Api, path: str, extra: dict[str, Any]
) -> None:
    """docs/failure-modes.md #6, 7: the client never chooses the credits or the recipient."""
    user = await api.create_user()
    body = {"amount": 1000, "currency": "usd", **extra}

    response = await api.http.post(path, json=body, headers=user.headers)

    assert_error(response, 400, "validation_error")
    assert next(iter(extra)) in response.json()["error"]["message"]
    listed = await api.http.get("/api/stripe/payments", headers=user.headers)
    assert listed.json()["payments"] == []


@pytest.mark.parametrize("path", ["/api/stripe/checkout-session", "/api/stripe/payment-intent"])
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amount": 49, "currency": "usd"}, "amount_out_of_range"),
        ({"amount": 1_000_001, "currency": "usd"}, "amount_out_of_range"),
        ({"amount": 0, "currency": "usd"}, "validation_error"),
        ({"amount": -1000, "currency": "usd"}, "validation_error"),
        ({"amount": 10.5, "currency": "usd"}, "validation_error"),
        ({"amount": 1000, "currency": "eur"}, "unsupported_currency"),
        ({"amount": 1000, "currency": "xyz"}, "unsupported_currency"),
        ({"amount": 1000, "currency": "us"}, "validation_error"),
        ({"amount": 1000}, "validation_error"),
    ],
    ids=["below_min", "above_max", "zero", "negative", "fraction", "eur", "xyz", "short", "no_cur"],
)
async def test_amounts_and_currencies_are_checked(
    api: Api, path: str, body: dict[str, Any], code: str
) -> None:
    user = await api.create_user()
    assert_error(await api.http.post(path, json=body, headers=user.headers), 400, code)


async def test_the_bounds_themselves_are_accepted(api: Api) -> None:
    user = await api.create_user()
    assert (await api.checkout(user, 50))["credits"] == 50
    assert (await api.payment_intent(user, 1_000_000))["credits"] == 1_000_000
    upper = await api.http.post(
        "/api/stripe/checkout-session",
        json={"amount": 1000, "currency": "USD"},
        headers=user.headers,
    )
    assert upper.status_code == 200
    assert upper.json()["currency"] == "usd"


@pytest.mark.parametrize("amount", ["100.00", "1000"])
async def test_an_amount_sent_as_a_string_is_refused(api: Api, amount: str) -> None:
    user = await api.create_user()
    response = await api.http.post(
        "/api/stripe/checkout-session",
        json={"amount": amount, "currency": "usd"},
        headers=user.headers,
    )
    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize(
    "fields",
    [
        {"success_url": "https://evil.example.net/thanks"},
        {"cancel_url": "https://app.example.com.evil.net/"},
        {"success_url": "http://app.example.com/thanks"},
        {"success_url": "javascript:alert(1)"},
        {"success_url": "//evil.example.net/"},
        {"cancel_url": "https://app.example.com:8443/"},
    ],
    ids=["other_host", "suffix_host", "other_scheme", "javascript", "relative", "other_port"],
)
async def test_redirects_must_stay_on_the_frontend_origin(api: Api, fields: dict[str, str]) -> None:
    user = await api.create_user()
    response = await api.http.post(
        "/api/stripe/checkout-session",
        json={"amount": 1000, "currency": "usd", **fields},
        headers=user.headers,
    )
    assert_error(response, 400, "redirect_not_allowed")


async def test_a_redirect_on_the_frontend_origin_is_used(api: Api) -> None:
    user = await api.create_user()
    success = f"{FRONTEND_URL}/billing/done?session={{CHECKOUT_SESSION_ID}}"
    created = await api.checkout(user, 1000, success_url=success)
    page = await api.http.get(f"/sandbox/checkout/{created['session_id']}")
    assert page.status_code == 200


# ---- Idempotency-Key ----


@pytest.mark.parametrize(
    ("path", "object_id"),
    [
        ("/api/stripe/checkout-session", "session_id"),
        ("/api/stripe/payment-intent", "payment_intent_id"),
    ],
)
async def test_the_same_key_and_body_replay_the_first_answer(
    api: Api, path: str, object_id: str
) -> None:
    user = await api.create_user()
    headers = {**user.headers, "Idempotency-Key": "order-42"}
    body = {"amount": 1500, "currency": "usd", "description": "1500 credits"}

    first = await api.http.post(path, json=body, headers=headers)
    again = await api.http.post(path, json=body, headers=headers)
    changed = await api.http.post(path, json={**body, "amount": 1600}, headers=headers)
    unkeyed = await api.http.post(path, json=body, headers=user.headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert_error(changed, 409, "idempotency_key_reused")
    assert unkeyed.json()[object_id] != first.json()[object_id]
    listed = (await api.http.get("/api/stripe/payments", headers=user.headers)).json()
    assert len(listed["payments"]) == 2


async def test_a_key_is_per_user_and_per_kind_of_purchase(api: Api) -> None:
    alice, bob = await api.create_user(), await api.create_user()
    body = {"amount": 1000, "currency": "usd"}
    key = {"Idempotency-Key": "same-key"}

    alices = await api.http.post(
        "/api/stripe/checkout-session", json=body, headers={**alice.headers, **key}
    )
    bobs = await api.http.post(
        "/api/stripe/checkout-session", json=body, headers={**bob.headers, **key}
    )
    as_intent = await api.http.post(
        "/api/stripe/payment-intent", json=body, headers={**alice.headers, **key}
    )

    assert alices.status_code == bobs.status_code == 200
    assert alices.json()["payment_id"] != bobs.json()["payment_id"]
    assert_error(as_intent, 409, "idempotency_key_reused")
    too_long = await api.http.post(
        "/api/stripe/checkout-session",
        json=body,
        headers={**alice.headers, "Idempotency-Key": "k" * 256},
    )
    assert_error(too_long, 400, "invalid_idempotency_key")


@pytest.mark.parametrize("path", ["/api/stripe/checkout-session", "/api/stripe/payment-intent"])
async def test_concurrent_requests_with_one_key_make_one_payment(
    served_api: Api, path: str
) -> None:
    api = served_api
    user = await api.create_user()
    headers = {**user.headers, "Idempotency-Key": "double-click"}
    body = {"amount": 2000, "currency": "usd"}

    responses = await asyncio.gather(
        *(api.http.post(path, json=body, headers=headers) for _ in range(10))
    )

    accepted = [r for r in responses if r.status_code == 200]
    assert accepted, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code != 200):
        assert_error(refused, 409, "request_in_progress")
    assert len({r.json()["payment_id"] for r in accepted}) == 1
    assert len({r.text for r in accepted}) == 1
    listed = (await api.http.get("/api/stripe/payments", headers=user.headers)).json()
    assert [p["id"] for p in listed["payments"]] == [accepted[0].json()["payment_id"]]


# ---- ownership (docs/failure-modes.md #8) ----


async def test_another_users_session_intent_and_payment_are_404(api: Api) -> None:
    alice, mallory = await api.create_user(), await api.create_user()
    session = await api.checkout(alice, 1000)
    intent = await api.payment_intent(alice, 1000)
    await api.pay(session["session_id"])
    paths = [
        f"/api/stripe/checkout-session/{session['session_id']}",
        f"/api/stripe/payment-intent/{intent['payment_intent_id']}",
        f"/api/stripe/payments/{session['payment_id']}",
        f"/api/stripe/payments/{intent['payment_id']}",
    ]
    missing = [
        "/api/stripe/checkout-session/cs_test_nope",
        "/api/stripe/payment-intent/pi_nope",
        "/api/stripe/payments/pay_nope",
        "/api/stripe/payments/pay_nope",
    ]

    for theirs, nobodys in zip(paths, missing, strict=True):
        stolen = await api.http.get(theirs, headers=mallory.headers)
        absent = await api.http.get(nobodys, headers=mallory.headers)
        assert_error(stolen, 404, "not_found")
        assert stolen.json() == absent.json()  # nothing tells "not yours" from "no such"
        assert (await api.http.get(theirs, headers=alice.headers)).status_code == 200
    listed = await api.http.get("/api/stripe/payments", headers=mallory.headers)
    assert listed.json()["payments"] == []
    assert await api.credits(mallory) == 0


async def test_an_admin_can_read_any_payment(api: Api) -> None:
    alice, admin = await api.create_user(), await api.create_user(is_admin=True)
    payment_id = await _paid_checkout(api, alice)

    for headers in (ADMIN, admin.headers):
        response = await api.http.get(f"/api/stripe/payments/{payment_id}", headers=headers)
        assert response.status_code == 200
        assert (response.json()["user_id"], response.json()["status"]) == (alice.id, "completed")


# ---- refunds ----


async def test_a_full_refund_reverses_every_credit(api: Api) -> None:
    user = await api.create_user()
    payment_id = await _paid_checkout(api, user, 1000)

    response = await api.refund(payment_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refund_id"].startswith("re_")
    assert {k: body[k] for k in ("payment_id", "amount", "currency", "status")} == {
        "payment_id": payment_id,
        "amount": 1000,
        "currency": "usd",
        "status": "succeeded",
    }
    assert body["credits_reversed"] == 1000
    assert await api.credits(user) == 0
    payment = await api.payment(user, payment_id)
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", 1000)
    assert_error(await api.refund(payment_id, 1), 422, "refund_exceeds_remaining")


async def test_partial_refunds_reverse_proportionally_and_never_exceed_what_remains(
    api: Api,
) -> None:
    user = await api.create_user()
    payment_id = await _paid_checkout(api, user, None, package_id="credits_5500")  # $50

    first = await api.refund(payment_id, 2500)
    too_much = await api.refund(payment_id, 2501)
    second = await api.http.post(
        "/api/stripe/refund",
        json={
            "payment_intent_id": (await api.payment(user, payment_id))["stripe_payment_intent_id"],
            "amount": 1,
            "reason": "requested_by_customer",
        },
        headers=ADMIN,
    )
    rest = await api.refund(payment_id)

    assert first.json()["credits_reversed"] == 2750  # half of 5500 credits
    assert_error(too_much, 422, "refund_exceeds_remaining")
    assert second.json()["credits_reversed"] == 1  # 5500 * 2501 // 5000 - 2750
    assert (rest.json()["amount"], rest.json()["credits_reversed"]) == (2499, 2749)
    assert await api.credits(user) == 0
    payment = await api.payment(user, payment_id)
    assert (payment["amount_refunded"], payment["credits_reversed"]) == (5000, 5500)
    kinds = [(e["kind"], e["credits"]) for e in await api.transactions(user)]
    assert kinds == [
        ("refund_reversal", -2749),
        ("refund_reversal", -1),
        ("refund_reversal", -2750),
        ("purchase", 5500),
    ]


async def test_what_cannot_be_refunded(api: Api) -> None:
    user = await api.create_user()
    pending = await api.checkout(user, 1000)

    assert_error(await api.refund(pending["payment_id"]), 422, "refund_not_allowed")
    assert_error(await api.refund("pay_nope"), 404, "not_found")
    neither = await api.http.post("/api/stripe/refund", json={}, headers=ADMIN)
    assert neither.status_code in (400, 422)
    assert neither.json()["error"]["code"] in ("validation_error", "refund_not_allowed")


# ---- API keys ----


async def test_api_keys_are_shown_once_listed_by_prefix_and_revocable(api: Api) -> None:
    user = await api.create_user()

    created = await api.http.post(
        "/api/users/me/api-keys", json={"name": "ci"}, headers=user.headers
    )

    assert created.status_code == 201
    new = created.json()
    assert sorted(new) == ["api_key", "created_at", "id", "name", "prefix"]
    assert new["api_key"].startswith(new["prefix"])
    assert len(new["prefix"]) < len(new["api_key"]) // 2
    second = {"Authorization": f"Bearer {new['api_key']}"}
    assert (await api.http.get("/api/users/me", headers=second)).json()["user_id"] == user.id
    assert (await api.http.get("/user/balance", headers=second)).status_code == 200

    listed = await api.http.get("/api/users/me/api-keys", headers=user.headers)
    assert listed.status_code == 200
    assert sorted(k["name"] for k in listed.json()) == ["ci", "default"]
    for key in listed.json():
        assert sorted(key) == ["created_at", "id", "name", "prefix", "revoked_at"]
    assert new["api_key"] not in listed.text
    assert user.api_key not in listed.text

    revoked = await api.http.delete(f"/api/users/me/api-keys/{new['id']}", headers=user.headers)

    assert revoked.status_code == 204
    assert_error(await api.http.get("/api/users/me", headers=second), 401, "unauthenticated")
    # A balance read trusted the key a moment ago; revoking it here ends that at once.
    assert_error(await api.http.get("/user/balance", headers=second), 401, "unauthenticated")
    after = (await api.http.get("/api/users/me/api-keys", headers=user.headers)).json()
    assert {k["name"]: k["revoked_at"] is not None for k in after} == {
        "ci": True,
        "default": False,
    }


async def test_another_users_key_cannot_be_revoked(api: Api) -> None:
    alice, mallory = await api.create_user(), await api.create_user()
    (alices_key,) = (await api.http.get("/api/users/me/api-keys", headers=alice.headers)).json()

    response = await api.http.delete(
        f"/api/users/me/api-keys/{alices_key['id']}", headers=mallory.headers
    )

    assert_error(response, 404, "not_found")
    assert (await api.http.get("/api/users/me", headers=alice.headers)).status_code == 200


# ---- health, readiness, OpenAPI ----


async def test_health_ready_schema_and_docs(api: Api) -> None:
    assert (await api.http.get("/health")).json() == {"status": "ok"}
    assert (await api.http.get("/ready")).json() == {"status": "ready"}
    schema = await api.http.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = set(schema.json()["paths"])
    assert {
        "/api/stripe/credit-packages",
        "/api/stripe/checkout-session",
        "/api/stripe/checkout-session/{session_id}",
        "/api/stripe/payment-intent",
        "/api/stripe/payment-intent/{intent_id}",
        "/api/stripe/payments",
        "/api/stripe/payments/{payment_id}",
        "/api/stripe/webhook",
        "/api/stripe/refund",
        "/user/balance",
        "/user/credit-transactions",
        "/api/users",
        "/api/users/me",
        "/api/users/me/api-keys",
        "/api/users/me/api-keys/{key_id}",
        "/health",
        "/ready",
    } <= paths
    assert not any(path.startswith("/sandbox") for path in paths)
    assert (await api.http.get("/schema")).json()["paths"].keys() == paths
    docs = await api.http.get("/docs", follow_redirects=False)
    assert docs.status_code in (301, 302, 307, 308)
    assert docs.headers["location"].startswith("/schema")
    assert (await api.http.get("/docs", follow_redirects=True)).status_code == 200


async def test_ready_is_503_without_the_database(api: Api) -> None:
    url = unreachable_database_url(api.under_test.database_url, "missing_database")
    async with client_of(make_app(url)) as down:
        assert (await down.http.get("/health")).status_code == 200
        assert_error(await down.http.get("/ready"), 503, "database_unavailable")


async def test_unknown_routes_and_methods_use_the_error_shape(api: Api) -> None:
    assert_error(await api.http.get("/api/nothing-here"), 404, "not_found")
    assert_error(await api.http.delete("/api/stripe/credit-packages"), 405, "method_not_allowed")


# ---- keyset pagination ----


async def _all_pages(api: Api, user: User, path: str, key: str, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await api.http.get(path, params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()[key])
        if (cursor := response.json()["next_cursor"]) is None:
            return pages


async def test_payments_and_transactions_page_newest_first_without_duplicates(api: Api) -> None:
    user, other = await api.create_user(), await api.create_user()
    made = []
    for amount in (100, 200, 300, 400, 500):
        created = await api.checkout(user, amount)
        made.append(created["payment_id"])
        await api.deliver(intent_succeeded(await api.payment_ref(user, created["payment_id"])))
    await api.checkout(other, 999)

    payment_pages = await _all_pages(api, user, "/api/stripe/payments", "payments", 2)
    entry_pages = await _all_pages(api, user, "/user/credit-transactions", "transactions", 2)

    assert [len(page) for page in payment_pages] == [2, 2, 1]
    assert [p["id"] for page in payment_pages for p in page] == made[::-1]
    assert [len(page) for page in entry_pages] == [2, 2, 1]
    entries = [e for page in entry_pages for e in page]
    assert [e["credits"] for e in entries] == [500, 400, 300, 200, 100]
    assert len({e["id"] for e in entries}) == 5
    assert [e["balance_after"] for e in entries] == [1500, 1000, 600, 300, 100]


@pytest.mark.parametrize("path", ["/api/stripe/payments", "/user/credit-transactions"])
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "bm90fGF8dmFsaWQ"}, "invalid_cursor"),
        ({"limit": 0}, "invalid_limit"),
        ({"limit": 101}, "invalid_limit"),
        ({"limit": "ten"}, "validation_error"),
    ],
    ids=["garbage", "wrong_shape", "zero", "too_many", "not_a_number"],
)
async def test_bad_paging_parameters_are_400(
    api: Api, path: str, params: dict[str, Any], code: str
) -> None:
    user = await api.create_user()
    await api.checkout(user, 1000)
    assert_error(await api.http.get(path, params=params, headers=user.headers), 400, code)
