"""Rate limits that hold: one budget per principal, else per client address.

The limiter keyed on the raw Authorization header: ``bearer KEY``, ``BEARER KEY`` and
``Bearer  KEY`` each had a fresh budget, so did any random header on a public route,
and invalid keys were never limited (key and coupon guessing ran unthrottled, one
database lookup per try). Its store never dropped a bucket, and its 429 lost the
``Retry-After`` and ``RateLimit-*`` headers (a 405 its ``Allow``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.http.limits import BucketStore
from tests.e2e.conftest import ADMIN, PUBLIC_URL, Api, AppUnderTest, make_app, served

BUDGET = 3


@pytest.fixture
def limited_app(sqlite_url: str) -> AppUnderTest:
    return make_app(sqlite_url, RATE_LIMIT_PER_MINUTE=str(BUDGET))


@pytest.fixture
async def limited(limited_app: AppUnderTest) -> AsyncIterator[Api]:
    async with AsyncTestClient(limited_app.app, base_url=PUBLIC_URL) as client:
        yield Api(client, limited_app)


async def _new_user_key(api: Api) -> str:
    """A user made with the admin key, which spends the admin's budget, not the user's."""
    return (await api.create_user()).api_key


async def test_spellings_of_one_key_share_its_budget(limited: Api) -> None:
    key = await _new_user_key(limited)
    spellings = [f"Bearer {key}", f"bearer {key}", f"BEARER {key}", f"Bearer  {key} "]
    statuses = [
        (await limited.http.get("/user/balance", headers={"Authorization": a})).status_code
        for a in spellings
    ]
    assert statuses == [200, 200, 200, 429]


async def test_two_keys_of_one_user_share_the_users_budget(limited: Api) -> None:
    first = {"Authorization": f"Bearer {await _new_user_key(limited)}"}
    made = await limited.http.post("/api/users/me/api-keys", json={}, headers=first)
    assert made.status_code == 201
    second = {"Authorization": f"Bearer {made.json()['api_key']}"}
    assert (await limited.http.get("/user/balance", headers=second)).status_code == 200
    assert (await limited.http.get("/user/balance", headers=second)).status_code == 200
    assert (await limited.http.get("/user/balance", headers=first)).status_code == 429


async def test_random_headers_on_a_public_route_share_the_address_budget(limited: Api) -> None:
    statuses = []
    for _ in range(BUDGET + 2):
        garbage = {"Authorization": f"Bearer {uuid.uuid4().hex}"}
        response = await limited.http.get("/api/stripe/credit-packages", headers=garbage)
        statuses.append(response.status_code)
    assert statuses == [200] * BUDGET + [429, 429]


async def test_guessing_keys_is_throttled_by_address_before_any_lookup(limited: Api) -> None:
    statuses = []
    for _ in range(BUDGET + 3):
        guess = {"Authorization": f"Bearer cl_{uuid.uuid4().hex}"}
        response = await limited.http.post("/api/coupons/redeem", json={"code": "X"}, headers=guess)
        statuses.append(response.status_code)
    assert statuses == [401] * BUDGET + [429] * 3


async def test_forwarded_for_is_ignored_without_trusted_proxies(limited: Api) -> None:
    statuses = []
    for n in range(BUDGET + 1):
        forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
        response = await limited.http.get("/api/stripe/credit-packages", headers=forwarded)
        statuses.append(response.status_code)
    assert statuses == [200] * BUDGET + [429]


async def test_a_429_says_when_to_retry(limited: Api) -> None:
    for _ in range(BUDGET):
        await limited.http.get("/api/stripe/credit-packages")
    response = await limited.http.get("/api/stripe/credit-packages")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Limit"] == str(BUDGET)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert "RateLimit-Reset" in response.headers


async def test_a_405_says_which_methods_are_allowed(limited: Api) -> None:
    response = await limited.http.put("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_many_callers_leave_one_bucket_per_principal_or_address(
    limited: Api, limited_app: AppUnderTest
) -> None:
    for _ in range(40):
        garbage = {"Authorization": f"Bearer {uuid.uuid4().hex}"}
        await limited.http.get("/health", headers=garbage)
        await limited.http.get("/api/stripe/credit-packages", headers=garbage)
    await limited.http.get("/api/stripe/credit-packages", headers=ADMIN)
    store = limited_app.app.stores.get("rate_limit")
    assert isinstance(store, BucketStore)
    assert store.bucket_count() == 2  # the test client's address, and the operator key


# ---- API keys: a cap per user, and pages --------------------------------------------------

KEY_CAP = 3


async def test_a_user_cannot_hold_more_active_keys_than_the_cap(sqlite_url: str) -> None:
    under_test = make_app(sqlite_url, MAX_API_KEYS_PER_USER=str(KEY_CAP))
    async with AsyncTestClient(under_test.app, base_url=PUBLIC_URL) as client:
        user = await Api(client, under_test).create_user()  # its first key: "default"
        made = [
            await client.post("/api/users/me/api-keys", json={}, headers=user.headers)
            for _ in range(KEY_CAP)
        ]
        assert [r.status_code for r in made] == [201, 201, 409]
        assert made[-1].json()["error"]["code"] == "api_key_limit"
        revoked = await client.delete(
            f"/api/users/me/api-keys/{made[0].json()['id']}", headers=user.headers
        )
        assert revoked.status_code == 204
        again = await client.post("/api/users/me/api-keys", json={}, headers=user.headers)
        assert again.status_code == 201


@pytest.mark.postgres
async def test_concurrent_key_creation_stops_at_the_cap(empty_pg_url: str) -> None:
    under_test = make_app(empty_pg_url, MAX_API_KEYS_PER_USER=str(KEY_CAP))
    async with served(under_test) as api:
        user = await api.create_user()
        results = await asyncio.gather(
            *(
                api.http.post("/api/users/me/api-keys", json={}, headers=user.headers)
                for _ in range(12)
            )
        )
        assert sorted(r.status_code for r in results) == [201] * (KEY_CAP - 1) + [409] * 10
        listed = await api.http.get("/api/users/me/api-keys", headers=user.headers)
        assert sum(k["revoked_at"] is None for k in listed.json()) == KEY_CAP


async def test_the_key_list_is_paged_by_limit_and_cursor_with_a_next_link(any_api: Api) -> None:
    user = await any_api.create_user()
    for _ in range(2):
        await any_api.http.post("/api/users/me/api-keys", json={}, headers=user.headers)
    first = await any_api.http.get(
        "/api/users/me/api-keys", params={"limit": 2}, headers=user.headers
    )
    assert first.status_code == 200
    assert len(first.json()) == 2  # the body stays a bare list: existing clients read it
    cursor = first.headers["X-Next-Cursor"]
    assert first.headers["Link"] == f'</api/users/me/api-keys?limit=2&cursor={cursor}>; rel="next"'
    rest = await any_api.http.get(
        "/api/users/me/api-keys", params={"limit": 2, "cursor": cursor}, headers=user.headers
    )
    assert len(rest.json()) == 1
    assert "X-Next-Cursor" not in rest.headers and "Link" not in rest.headers
    ids = [k["id"] for k in first.json() + rest.json()]
    assert len(set(ids)) == 3
