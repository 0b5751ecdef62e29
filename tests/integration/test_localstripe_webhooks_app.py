"""The whole app on the Stripe gateway, against localstripe, with real webhook deliveries.

The app runs under uvicorn on 127.0.0.1 so that localstripe (another process) can post
the events it signs to POST /api/stripe/webhook. A purchase goes through our API, the
customer's confirmation through localstripe, and the credits arrive by webhook alone;
an admin refund reverses them, and the refund events delivered afterwards are no-ops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import stripe

from tests.e2e.conftest import Api, Database, make_app, served
from tests.integration.conftest import LOCALSTRIPE_SECRET_KEY, WEBHOOK_SECRET, RegisterWebhook

pytestmark = pytest.mark.postgres

DELIVERY_TIMEOUT_SECONDS = 15.0
VISA = "pm_card_visa"


@pytest.fixture
async def stripe_api(
    empty_pg_url: str, localstripe_url: str, localstripe_webhook: RegisterWebhook
) -> AsyncIterator[Api]:
    under_test = make_app(
        empty_pg_url,
        PAYMENT_GATEWAY="stripe",
        STRIPE_SECRET_KEY=LOCALSTRIPE_SECRET_KEY,
        STRIPE_API_BASE=localstripe_url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    async with served(under_test) as api:
        url = str(api.http.base_url).rstrip("/") + "/api/stripe/webhook"
        await localstripe_webhook(url, WEBHOOK_SECRET, None)
        yield api


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """The first truthy result of ``check``, polled until localstripe has delivered."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError("localstripe's webhook never had that effect")
        await asyncio.sleep(0.1)
    return result


async def _outcomes(db: Database, payment_id: str) -> dict[str, list[str]]:
    """Outcomes of the events recorded about one payment, by event type."""
    rows = await db.rows(
        "SELECT type, outcome FROM processed_events WHERE detail = :payment_id",
        payment_id=payment_id,
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["type"], []).append(row["outcome"])
    return found


async def _paid_by_webhook(
    api: Api, client: stripe.StripeClient, amount: int
) -> tuple[Any, dict[str, Any]]:
    user = await api.create_user()
    created = await api.payment_intent(user, amount)
    assert created["client_secret"]
    intent_id = created["payment_intent_id"]
    # The customer's browser: attach a test card and confirm, at "Stripe".
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": VISA})
    await client.v1.payment_intents.confirm_async(intent_id)

    async def credited() -> bool:
        return await api.credits(user) > 0

    await eventually(credited)
    return user, created


async def test_a_payment_confirmed_at_stripe_is_credited_by_its_signed_webhook(
    stripe_api: Api, localstripe_client: stripe.StripeClient
) -> None:
    api, db = stripe_api, Database(stripe_api.under_test.database_url)

    user, created = await _paid_by_webhook(api, localstripe_client, 1500)

    assert await api.balance(user) == {
        "user_id": user.id,
        "credits": 1500,
        "balance_usd": "15.00",
        "available_credits": 1500,
        "held_credits": 0,
        "runway_days": None,
    }
    payment = await api.payment(user, created["payment_id"])
    assert (payment["status"], payment["stripe_payment_intent_id"]) == (
        "completed",
        created["payment_intent_id"],
    )
    outcomes = await _outcomes(db, created["payment_id"])
    assert outcomes["payment_intent.succeeded"] == ["granted"]
    assert [e["kind"] for e in await api.transactions(user)] == ["purchase"]


async def test_an_admin_refund_reverses_once_and_its_delivered_events_are_no_ops(
    stripe_api: Api, localstripe_client: stripe.StripeClient
) -> None:
    api, db = stripe_api, Database(stripe_api.under_test.database_url)
    user, created = await _paid_by_webhook(api, localstripe_client, 2000)

    response = await api.refund(created["payment_id"], 500)

    assert response.status_code == 200, response.text
    assert (response.json()["amount"], response.json()["credits_reversed"]) == (500, 500)
    assert response.json()["refund_id"].startswith("re_")

    async def refund_events_arrived() -> dict[str, list[str]] | None:
        outcomes = await _outcomes(db, created["payment_id"])
        return outcomes if {"charge.refunded", "refund.created"} <= set(outcomes) else None

    outcomes = await eventually(refund_events_arrived)
    assert outcomes["charge.refunded"] == outcomes["refund.created"] == ["no_change"]
    assert await api.credits(user) == 1500
    payment = await api.payment(user, created["payment_id"])
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", 500)
    entries = [(e["kind"], e["credits"]) for e in await api.transactions(user)]
    assert entries == [("refund_reversal", -500), ("purchase", 2000)]
