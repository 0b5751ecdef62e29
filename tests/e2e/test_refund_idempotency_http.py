"""POST /api/stripe/refund with an Idempotency-Key, over HTTP on SQLite and PostgreSQL.

The key is stored with the refund: a retry answers the first result (the same body),
even after the gateway forgot the key (Stripe keeps one for 24 hours); the same key
for another request is a 409.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import delete

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import sandbox_idempotency_keys
from tests.e2e.conftest import ADMIN, Api, User
from tests.e2e.test_api_contract import assert_error


async def refund(api: Api, key: str, **body: Any) -> httpx.Response:
    headers = {**ADMIN, "Idempotency-Key": key}
    return await api.http.post("/api/stripe/refund", json=body, headers=headers)


async def forget_the_sandbox_keys(api: Api) -> None:
    engine = make_engine(api.under_test.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(sandbox_idempotency_keys))
    finally:
        await engine.dispose()


async def paid(api: Api, user: User, amount: int = 1000) -> str:
    created = await api.checkout(user, amount)
    await api.pay(created["session_id"])
    payment_id: str = created["payment_id"]
    return payment_id


async def test_a_retry_after_the_gateway_forgot_the_key_answers_the_first_result(
    any_api: Api,
) -> None:
    api = any_api
    user = await api.create_user()
    payment_id = await paid(api, user)
    first = await refund(api, "refund-7", payment_id=payment_id, amount=400)
    assert first.status_code == 200, first.text
    await forget_the_sandbox_keys(api)  # a day later: Stripe no longer knows the key

    again = await refund(api, "refund-7", payment_id=payment_id, amount=400)

    assert (again.status_code, again.json()) == (200, first.json())
    assert await api.credits(user) == 600
    payment = await api.payment(user, payment_id)
    assert (payment["amount_refunded"], payment["credits_reversed"]) == (400, 400)


async def test_the_same_key_for_another_request_is_a_conflict(any_api: Api) -> None:
    api = any_api
    user = await api.create_user()
    payment_id = await paid(api, user)
    other_id = await paid(api, user)
    assert (await refund(api, "k", payment_id=payment_id, amount=400)).status_code == 200

    assert_error(
        await refund(api, "k", payment_id=payment_id, amount=300), 409, "idempotency_key_reused"
    )
    assert_error(
        await refund(api, "k", payment_id=other_id, amount=400), 409, "idempotency_key_reused"
    )
    assert await api.credits(user) == 1600
