"""The seed's purchase flow over HTTP: buy credits, pay on the sandbox, see the balance.

Checkout and PaymentIntents, test cards, 3-D Secure, lost webhooks repaired by the
owner's read of the session or intent, and credit packages priced on the server.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DECLINED, PUBLIC_URL, Api, AppUnderTest

THREE_D_SECURE = "4000 0025 0000 3155"


@pytest.fixture
def pg_app(shared_pg_app: AppUnderTest) -> AppUnderTest:
    """Every test here creates its own users and reads only theirs: no need to empty."""
    return shared_pg_app


def _types(outcome: dict[str, Any]) -> list[str]:
    return [evt["type"] for evt in outcome["events"]]


async def test_a_checkout_purchase_grants_its_credits(any_api: Api) -> None:
    api = any_api
    user = await api.create_user()
    created = await api.checkout(user, 1000)
    assert created["status"] == "pending"
    assert (created["amount"], created["currency"], created["credits"]) == (1000, "usd", 1000)
    assert created["session_id"].startswith("cs_test_")
    assert created["url"] == f"{PUBLIC_URL}/sandbox/checkout/{created['session_id']}"
    assert created["expires_at"]
    assert await api.balance(user) == {
        "user_id": user.id,
        "credits": 0,
        "balance_usd": "0.00",
        "available_credits": 0,
        "held_credits": 0,
        "runway_days": None,
    }

    paid = await api.pay(created["session_id"])

    assert paid["status"] == "succeeded"
    assert _types(paid) == ["payment_intent.succeeded", "checkout.session.completed"]
    balance = await api.balance(user)
    assert (balance["credits"], balance["balance_usd"]) == (1000, "10.00")
    payment = await api.payment(user, created["payment_id"])
    assert payment["status"] == "completed"
    assert payment["completed_at"] is not None
    assert (payment["amount"], payment["amount_display"], payment["credits"]) == (
        1000,
        "10.00",
        1000,
    )
    listed = (await api.http.get("/api/stripe/payments", headers=user.headers)).json()
    assert [p["id"] for p in listed["payments"]] == [created["payment_id"]]
    assert listed["payments"][0]["status"] == "completed"
    (entry,) = await api.transactions(user)
    assert entry["kind"] == "purchase"
    assert (entry["credits"], entry["balance_after"], entry["credits_usd"]) == (1000, 1000, "10.00")
    assert (entry["reference_type"], entry["reference_id"]) == ("payment", created["payment_id"])
    session = await api.http.get(
        f"/api/stripe/checkout-session/{created['session_id']}", headers=user.headers
    )
    assert session.status_code == 200
    assert session.json()["status"] == "completed"
    assert session.json()["payment_status"] == "paid"
    assert session.json()["gateway_status"] == "complete"
    assert await api.credits(user) == 1000


async def test_a_payment_intent_purchase_grants_its_credits(any_api: Api) -> None:
    api = any_api
    user = await api.create_user()
    created = await api.payment_intent(user, 2500)
    assert created["status"] == "pending"
    assert created["payment_intent_id"].startswith("pi_")
    assert created["client_secret"].startswith(f"{created['payment_intent_id']}_secret")
    assert (created["amount"], created["currency"], created["credits"]) == (2500, "usd", 2500)

    confirmed = await api.confirm(created["payment_intent_id"])

    assert confirmed["status"] == "succeeded"
    assert _types(confirmed) == ["payment_intent.succeeded"]
    read = await api.http.get(
        f"/api/stripe/payment-intent/{created['payment_intent_id']}", headers=user.headers
    )
    assert read.status_code == 200
    body = read.json()
    assert (body["status"], body["gateway_status"]) == ("completed", "succeeded")
    assert body["payment_id"] == created["payment_id"]
    assert body["payment"]["stripe_payment_intent_id"] == created["payment_intent_id"]
    assert await api.balance(user) == {
        "user_id": user.id,
        "credits": 2500,
        "balance_usd": "25.00",
        "available_credits": 2500,
        "held_credits": 0,
        "runway_days": None,
    }


async def test_a_declined_card_fails_the_payment_until_another_card_succeeds(api: Api) -> None:
    user = await api.create_user()
    created = await api.checkout(user, 1500)

    declined = await api.pay(created["session_id"], DECLINED)

    assert declined["status"] == "failed"
    assert _types(declined) == ["payment_intent.payment_failed"]
    payment = await api.payment(user, created["payment_id"])
    assert (payment["status"], payment["failure_reason"]) == ("failed", "insufficient_funds")
    assert await api.credits(user) == 0

    await api.pay(created["session_id"])

    payment = await api.payment(user, created["payment_id"])
    assert (payment["status"], payment["failure_reason"]) == ("completed", None)
    assert await api.credits(user) == 1500


async def test_three_d_secure_grants_only_once_authenticated(api: Api) -> None:
    user = await api.create_user()
    created = await api.checkout(user, 1000)

    asked = await api.pay(created["session_id"], THREE_D_SECURE)

    assert (asked["status"], asked["events"]) == ("requires_action", [])
    assert await api.credits(user) == 0
    authenticated = await api.http.post(
        f"/sandbox/authenticate/{created['session_id']}", json={"succeed": True}
    )
    assert authenticated.status_code == 200
    assert authenticated.json()["status"] == "succeeded"
    assert await api.credits(user) == 1000


async def test_a_lost_checkout_webhook_is_repaired_by_reading_the_session(api: Api) -> None:
    user = await api.create_user()
    created = await api.checkout(user, 1000)
    lost = await api.pay(created["session_id"], deliver="never")
    assert lost["status"] == "succeeded"
    assert await api.credits(user) == 0
    assert (await api.payment(user, created["payment_id"]))["status"] == "pending"

    url = f"/api/stripe/checkout-session/{created['session_id']}"
    first = await api.http.get(url, headers=user.headers)
    again = await api.http.get(url, headers=user.headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "completed"
    assert await api.credits(user) == 1000
    # The events arrive late after all (Stripe retries): nothing more is granted.
    assert [await api.deliver(evt) for evt in lost["events"]] == ["no_change", "no_change"]
    assert await api.credits(user) == 1000
    assert len(await api.transactions(user)) == 1


async def test_a_lost_payment_intent_webhook_is_repaired_by_reading_the_intent(
    api: Api,
) -> None:
    user = await api.create_user()
    created = await api.payment_intent(user, 1200)
    lost = await api.confirm(created["payment_intent_id"], deliver="never")
    assert lost["status"] == "succeeded"
    assert await api.credits(user) == 0

    read = await api.http.get(
        f"/api/stripe/payment-intent/{created['payment_intent_id']}", headers=user.headers
    )

    assert read.status_code == 200
    assert read.json()["status"] == "completed"
    assert await api.credits(user) == 1200
    assert [await api.deliver(evt) for evt in lost["events"]] == ["no_change"]
    assert await api.credits(user) == 1200


async def test_credit_packages_are_public(api: Api) -> None:
    response = await api.http.get("/api/stripe/credit-packages")

    assert response.status_code == 200
    packages = {p["id"]: p for p in response.json()}
    assert set(packages) == {"credits_1000", "credits_5500", "credits_12000"}
    growth = packages["credits_5500"]
    assert (growth["credits"], growth["amount"], growth["currency"]) == (5500, 5000, "usd")
    assert growth["amount_display"] == "50.00"
    assert (growth["discount_percentage"], growth["popular"]) == (9, True)
    assert [p["popular"] for p in packages.values()].count(True) == 1


async def test_a_package_purchase_grants_the_package_credits(api: Api) -> None:
    user = await api.create_user()
    by_checkout = await api.checkout(user, None, package_id="credits_5500")
    by_intent = await api.payment_intent(user, None, package_id="credits_12000")
    assert (by_checkout["amount"], by_checkout["credits"]) == (5000, 5500)
    assert (by_intent["amount"], by_intent["credits"]) == (10000, 12000)

    await api.pay(by_checkout["session_id"])
    await api.confirm(by_intent["payment_intent_id"])

    assert await api.credits(user) == 5500 + 12000
    payment = await api.payment(user, by_checkout["payment_id"])
    assert (payment["package_id"], payment["description"]) == ("credits_5500", "Growth")


async def test_a_package_price_cannot_be_changed_by_the_client(api: Api) -> None:
    user = await api.create_user()
    response = await api.http.post(
        "/api/stripe/checkout-session",
        json={"package_id": "credits_5500", "amount": 50, "currency": "usd"},
        headers=user.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "package_amount_mismatch"
    unknown = await api.http.post(
        "/api/stripe/checkout-session", json={"package_id": "free_money"}, headers=user.headers
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_package"
