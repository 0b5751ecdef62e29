"""The spending API over HTTP, and disputes through the webhook, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    ADMIN,
    Api,
    AppUnderTest,
    PaymentRef,
    User,
    client_of,
    event,
    make_app,
)

SERVICE_KEY = "e2e-service-key-0123456789"
SERVICE = {"Authorization": f"Bearer {SERVICE_KEY}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def spend_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    under_test: AppUnderTest = make_app(url, SERVICE_API_KEYS=SERVICE_KEY)
    async with client_of(under_test) as api:
        yield api


async def _funded(api: Api, amount: int = 1000) -> tuple[User, PaymentRef]:
    user, ref = await api.new_checkout(amount)
    await api.pay(ref.session_id or "")
    return user, await api.payment_ref(user, ref.payment_id)


async def _debit(api: Api, user: User, credits: int, key: str, **extra: Any) -> Any:
    body = {"user_id": user.id, "credits": credits, "idempotency_key": key, **extra}
    return await api.http.post("/api/credits/debit", json=body, headers=SERVICE)


async def test_a_service_debits_once_per_key_and_a_user_key_may_not(spend_api: Api) -> None:
    user, _ = await _funded(spend_api)
    first = await _debit(spend_api, user, 300, "req-1", description="GET /v1/things")
    assert first.status_code == 200, first.text
    assert set(first.json()) == {"entry_id", "balance", "available"}
    assert first.json()["balance"] == 700
    again = await _debit(spend_api, user, 300, "req-1", description="GET /v1/things")
    assert (again.status_code, again.json()) == (200, first.json())
    reused = await _debit(spend_api, user, 301, "req-1")
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "idempotency_key_reused")
    refused = await _debit(spend_api, user, 701, "req-2")
    assert refused.status_code == 402
    assert refused.json()["error"] == {
        "code": "insufficient_credits",
        "message": refused.json()["error"]["message"],
        "available": 700,
    }
    body = {"user_id": user.id, "credits": 1, "idempotency_key": "own"}
    own = await spend_api.http.post("/api/credits/debit", json=body, headers=user.headers)
    assert own.status_code == 403
    admin = await spend_api.http.post("/api/credits/debit", json=body, headers=ADMIN)
    assert admin.status_code == 200
    balance = await spend_api.http.get(f"/api/credits/balance/{user.id}", headers=SERVICE)
    assert balance.json() == {"user_id": user.id, "balance": 699, "held": 0, "available": 699}


async def test_a_batch_answers_each_debit_on_its_own(spend_api: Api) -> None:
    user, _ = await _funded(spend_api)
    other = await spend_api.create_user()
    debits = [
        {"user_id": user.id, "credits": 600, "idempotency_key": "b1"},
        {"user_id": other.id, "credits": 1, "idempotency_key": "b2"},
        {"user_id": user.id, "credits": 600, "idempotency_key": "b3"},
        {"user_id": user.id, "credits": 400, "idempotency_key": "b4"},
    ]
    response = await spend_api.http.post(
        "/api/credits/debits", json={"debits": debits}, headers=SERVICE
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == [200, 402, 402, 200]
    assert (body["succeeded"], body["refused"]) == (2, 2)
    assert await spend_api.credits(user) == 0


async def test_holds_reserve_then_capture_at_most_the_held_amount(spend_api: Api) -> None:
    user, _ = await _funded(spend_api)
    body = {"user_id": user.id, "credits": 400, "idempotency_key": "h1", "ttl_seconds": 60}
    placed = await spend_api.http.post("/api/credits/holds", json=body, headers=SERVICE)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    shown = await spend_api.balance(user)
    assert (shown["credits"], shown["held_credits"], shown["available_credits"]) == (1000, 400, 600)
    assert (await _debit(spend_api, user, 601, "too-much")).status_code == 402
    path = f"/api/credits/holds/{hold['id']}"
    too_much = await spend_api.http.post(f"{path}/capture", json={"credits": 401}, headers=SERVICE)
    assert too_much.json()["error"]["code"] == "capture_exceeds_hold"
    captured = await spend_api.http.post(f"{path}/capture", json={"credits": 250}, headers=SERVICE)
    assert captured.status_code == 200, captured.text
    assert (captured.json()["balance"], captured.json()["available"]) == (750, 750)
    twice = await spend_api.http.post(f"{path}/capture", json={"credits": 1}, headers=SERVICE)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "hold_not_active")
    released = await spend_api.http.post(f"{path}/release", headers=SERVICE)
    assert released.status_code == 409
    kinds = [entry["kind"] for entry in await spend_api.transactions(user)]
    assert kinds[0] == "hold_capture"


def _dispute(ref: PaymentRef, event_type: str, dispute_id: str, status: str) -> dict[str, Any]:
    obj = {
        "id": dispute_id,
        "object": "dispute",
        "amount": ref.amount,
        "currency": ref.currency,
        "charge": f"ch_{ref.payment_id}",
        "payment_intent": ref.intent_id,
        "status": status,
        "reason": "fraudulent",
    }
    return event(event_type, obj)


LIFECYCLE = [
    ("charge.dispute.created", "needs_response"),
    ("charge.dispute.funds_withdrawn", "needs_response"),
    ("charge.dispute.closed", "lost"),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_a_lost_dispute_ends_the_same_whatever_the_order(
    spend_api: Api, order: tuple[int, ...]
) -> None:
    user, ref = await _funded(spend_api)
    assert (await _debit(spend_api, user, 300, "spent")).status_code == 200
    dispute_id = f"du_{uuid.uuid4().hex[:12]}"
    events = [_dispute(ref, *LIFECYCLE[i][:1], dispute_id, LIFECYCLE[i][1]) for i in order]
    for evt in [*events, random.choice(events)]:
        await spend_api.deliver(evt)
    shown = await spend_api.balance(user)
    assert (shown["credits"], shown["held_credits"]) == (-300, 0)
    payment = await spend_api.payment(user, ref.payment_id)
    assert payment["status"] == "disputed"


async def test_an_open_dispute_holds_the_purchase_until_it_is_won(spend_api: Api) -> None:
    user, ref = await _funded(spend_api)
    assert (await _debit(spend_api, user, 300, "spent")).status_code == 200
    await spend_api.deliver(_dispute(ref, "charge.dispute.created", "du_won", "needs_response"))
    shown = await spend_api.balance(user)
    assert (shown["credits"], shown["held_credits"], shown["available_credits"]) == (700, 700, 0)
    assert (await _debit(spend_api, user, 1, "during")).status_code == 402
    await spend_api.deliver(_dispute(ref, "charge.dispute.closed", "du_won", "won"))
    shown = await spend_api.balance(user)
    assert (shown["credits"], shown["held_credits"]) == (700, 0)
    assert (await spend_api.payment(user, ref.payment_id))["status"] == "completed"


def test_every_kind_of_dispute_event_has_a_handler() -> None:
    from application.webhooks import events
    from application.webhooks.handlers import HANDLERS

    kinds = {
        kind
        for kind in vars(events).values()
        if isinstance(kind, type)
        and issubclass(kind, events.DisputeEvent)
        and kind is not events.DisputeEvent
    }
    assert len(kinds) == 4 and kinds <= set(HANDLERS)
