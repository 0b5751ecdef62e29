"""Opening a payment: server-side pricing, redirect checks and the client's Idempotency-Key.

Covers ``create_checkout_session`` and ``create_payment_intent`` on the memory store
and the memory gateway: what a request creates (payment rows, gateway objects, their
metadata), and what a refused or retried request leaves behind.
"""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import (
    AmountOutOfRange,
    GatewayUnavailable,
    IdempotencyKeyReused,
    PackageAmountMismatch,
    RedirectNotAllowed,
    UnknownPackage,
    UnsupportedCurrency,
    ValidationFailed,
)
from domain.payment import PaymentKind, PaymentStatus
from tests.unit.conftest import EXPIRES_IN, FRONTEND, T0, App

# ---- pricing on the server ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "credits"),
    [(1000, "usd", 1000), (50, "usd", 50), (1_000_000, "usd", 1_000_000), (1234, "EUR", 1332)],
)
async def test_credits_are_priced_on_the_server_from_the_amount(
    app: App, amount: int, currency: str, credits: int
) -> None:
    user = await app.user()
    created = await app.checkout(user, amount, currency)
    payment = app.payment(created.payment_id)
    assert (created.amount, created.currency, created.credits) == (
        amount,
        currency.lower(),
        credits,
    )
    assert (payment.amount, payment.currency, payment.credits) == (
        amount,
        currency.lower(),
        credits,
    )
    assert payment.status is PaymentStatus.PENDING
    assert payment.kind is PaymentKind.CHECKOUT
    assert created.status == "pending"
    assert created.expires_at == T0 + EXPIRES_IN == payment.expires_at


async def test_a_package_is_sold_at_its_own_price_and_credits(app: App) -> None:
    user = await app.user()
    created = await app.checkout(user, None, None, package_id="pro")
    assert (created.amount, created.currency, created.credits) == (5000, "usd", 5500)
    payment = app.payment(created.payment_id)
    assert (payment.package_id, payment.description) == ("pro", "Pro")
    # The package's own price and currency may be repeated by the client.
    again = await app.checkout(user, 5000, "USD", package_id="pro")
    assert again.credits == 5500


@pytest.mark.parametrize(
    ("amount", "currency", "package_id", "error"),
    [
        (4999, "usd", "pro", PackageAmountMismatch),
        (5000, "eur", "pro", PackageAmountMismatch),
        (1000, "usd", "platinum", UnknownPackage),
        (1000, "gbp", None, UnsupportedCurrency),
        (1000, "dollars", None, UnsupportedCurrency),
        (49, "usd", None, AmountOutOfRange),
        (0, "usd", None, AmountOutOfRange),
        (-1000, "usd", None, AmountOutOfRange),
        (1_000_001, "usd", None, AmountOutOfRange),
        (None, "usd", None, ValidationFailed),
        (1000, None, None, ValidationFailed),
    ],
)
async def test_a_refused_order_creates_nothing(
    app: App, amount: int | None, currency: str | None, package_id: str | None, error: type
) -> None:
    user = await app.user()
    with pytest.raises(error):
        await app.checkout(user, amount, currency, package_id=package_id)
    with pytest.raises(error):
        await app.intent(user, amount, currency, package_id=package_id)
    assert app.store.state.payments == {}
    assert (app.gateway_sessions(), app.gateway_intents()) == (0, 0)


async def test_the_gateway_request_carries_server_values_only(app: App) -> None:
    """Metadata holds our payment and user ids and the server's credits.

    docs/failure-modes.md #6, 7.
    """
    user = await app.user()
    created = await app.checkout(user, 1234, "eur", description="credits=999999 user_id=usr_x")
    state = await app.gateway.get_checkout(created.session_id)
    assert dict(state.metadata) == {
        "payment_id": created.payment_id,
        "user_id": user,
        "credits": "1332",
    }
    assert (state.amount, state.currency) == (1234, "eur")
    assert state.payment_intent_id is not None
    intent = await app.gateway.get_payment_intent(state.payment_intent_id)
    assert dict(intent.metadata) == {"payment_id": created.payment_id, "user_id": user}
    payment = app.payment(created.payment_id)
    assert payment.stripe_session_id == created.session_id
    assert payment.stripe_payment_intent_id == state.payment_intent_id
    assert payment.checkout_url == created.url


# ---- redirects ------------------------------------------------------------------------------


async def test_redirects_default_to_the_frontend(app: App) -> None:
    created = await app.checkout(await app.user())
    details = await app.gateway.checkout_details(created.session_id)
    assert details.success_url == f"{FRONTEND}/payment/success?session_id={created.session_id}"
    assert details.cancel_url == f"{FRONTEND}/payment/cancel"


async def test_redirects_on_the_frontend_origin_are_kept(app: App) -> None:
    created = await app.checkout(
        await app.user(),
        success_url=f"{FRONTEND}/thanks?plan=pro",
        cancel_url="https://APP.example.com:443/back",
    )
    details = await app.gateway.checkout_details(created.session_id)
    assert details.success_url == f"{FRONTEND}/thanks?plan=pro&session_id={created.session_id}"
    assert details.cancel_url == "https://APP.example.com:443/back"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/thanks",
        "http://app.example.com/thanks",
        "https://app.example.com.evil.example/thanks",
        "https://app.example.com:8443/thanks",
        "https://user@evil.example/thanks",
        "//evil.example/thanks",
        "/relative",
        "javascript:alert(1)",
        "https://app.example.com/ok\r\nLocation: https://evil.example",
        # Browsers read a backslash as "/" (WHATWG URL): the host is evil.example,
        # while urllib.parse sees userinfo "evil.example\\" and host app.example.com.
        "https://evil.example\\@app.example.com/thanks",
    ],
)
@pytest.mark.parametrize("which", ["success_url", "cancel_url"])
async def test_a_redirect_off_the_frontend_origin_is_refused(
    app: App, url: str, which: str
) -> None:
    with pytest.raises(RedirectNotAllowed):
        await app.checkout(await app.user(), **{which: url})
    assert app.store.state.payments == {}
    assert app.gateway_sessions() == 0


# ---- Idempotency-Key ------------------------------------------------------------------------


async def test_the_same_key_and_body_replays_the_same_payment(app: App) -> None:
    user = await app.user()
    first = await app.checkout(user, 1500, "usd", key="order-1")
    again = await app.checkout(user, 1500, "usd", key="order-1")
    assert again == first
    assert list(app.store.state.payments) == [first.payment_id]
    assert app.gateway_sessions() == 1


async def test_concurrent_requests_with_one_key_make_one_payment(app: App) -> None:
    user = await app.user()
    results = await asyncio.gather(*(app.checkout(user, key="burst") for _ in range(5)))
    assert len({r.payment_id for r in results}) == 1
    assert len({r.session_id for r in results}) == 1
    assert len(app.store.state.payments) == 1
    assert app.gateway_sessions() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1001},
        {"currency": "eur"},
        {"description": "another"},
        {"package_id": "starter"},
        {"success_url": f"{FRONTEND}/elsewhere"},
        {"cancel_url": f"{FRONTEND}/elsewhere"},
    ],
)
async def test_the_same_key_with_another_body_is_refused(app: App, change: dict) -> None:
    user = await app.user()
    first = await app.checkout(user, 1000, "usd", key="order-1")
    with pytest.raises(IdempotencyKeyReused):
        await app.checkout(user, **{"amount": 1000, "currency": "usd", **change}, key="order-1")
    assert list(app.store.state.payments) == [first.payment_id]
    assert app.gateway_sessions() == 1


async def test_a_checkout_key_cannot_be_replayed_as_a_payment_intent(app: App) -> None:
    user = await app.user()
    await app.checkout(user, key="order-1")
    with pytest.raises(IdempotencyKeyReused):
        await app.intent(user, key="order-1")
    assert len(app.store.state.payments) == 1


async def test_keys_belong_to_their_user(app: App) -> None:
    alice, bob = await app.user(), await app.user()
    a = await app.checkout(alice, key="order-1")
    b = await app.checkout(bob, 2000, key="order-1")
    assert a.payment_id != b.payment_id
    assert app.payment(b.payment_id).user_id == bob
    assert app.gateway_sessions() == 2


@pytest.mark.parametrize("key", ["", "k" * 256])
async def test_an_invalid_key_is_refused(app: App, key: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await app.checkout(await app.user(), key=key)
    assert raised.value.code == "invalid_idempotency_key"
    assert app.store.state.payments == {}


async def test_a_key_of_255_characters_is_accepted(app: App) -> None:
    user = await app.user()
    first = await app.checkout(user, key="k" * 255)
    assert (await app.checkout(user, key="k" * 255)).payment_id == first.payment_id


@pytest.mark.parametrize("after", [False, True], ids=["before-acting", "answer-lost"])
async def test_a_retry_after_a_gateway_outage_completes_the_same_payment(
    app: App, after: bool
) -> None:
    user = await app.user()
    app.gateway.fail_next("create_checkout", after=after)
    with pytest.raises(GatewayUnavailable):
        await app.checkout(user, 1500, key="order-1")
    [pending] = app.store.state.payments.values()
    assert pending.stripe_session_id is None
    assert pending.status is PaymentStatus.PENDING

    created = await app.checkout(user, 1500, key="order-1")
    assert created.payment_id == pending.id
    assert list(app.store.state.payments) == [pending.id]
    assert app.gateway_sessions() == 1
    assert app.payment(pending.id).stripe_session_id == created.session_id


async def test_without_a_key_a_retry_is_a_new_payment(app: App) -> None:
    user = await app.user()
    first = await app.checkout(user)
    second = await app.checkout(user)
    assert first.payment_id != second.payment_id
    assert first.session_id != second.session_id


# ---- PaymentIntents -------------------------------------------------------------------------


async def test_a_payment_intent_is_priced_on_the_server(app: App) -> None:
    user = await app.user()
    created = await app.intent(user, 1234, "eur", description="credits=999999")
    payment = app.payment(created.payment_id)
    assert (created.amount, created.currency, created.credits) == (1234, "eur", 1332)
    assert payment.kind is PaymentKind.PAYMENT_INTENT
    assert payment.stripe_payment_intent_id == created.payment_intent_id
    assert payment.stripe_session_id is None
    assert created.client_secret and created.client_secret.startswith(created.payment_intent_id)
    intent = await app.gateway.get_payment_intent(created.payment_intent_id)
    assert dict(intent.metadata) == {
        "payment_id": created.payment_id,
        "user_id": user,
        "credits": "1332",
    }
    assert (intent.amount, intent.currency) == (1234, "eur")


async def test_a_payment_intent_package(app: App) -> None:
    created = await app.intent(await app.user(), None, None, package_id="odd")
    assert (created.amount, created.currency, created.credits) == (999, "usd", 1100)


async def test_a_replayed_payment_intent_returns_its_client_secret(app: App) -> None:
    user = await app.user()
    first = await app.intent(user, key="pi-1")
    again = await app.intent(user, key="pi-1")
    assert again == first
    assert again.client_secret is not None
    assert len(app.store.state.payments) == 1
    assert app.gateway_intents() == 1
    with pytest.raises(IdempotencyKeyReused):
        await app.intent(user, 2000, key="pi-1")


@pytest.mark.parametrize("after", [False, True], ids=["before-acting", "answer-lost"])
async def test_a_payment_intent_retry_after_an_outage_completes_the_same_payment(
    app: App, after: bool
) -> None:
    user = await app.user()
    app.gateway.fail_next("create_payment_intent", after=after)
    with pytest.raises(GatewayUnavailable):
        await app.intent(user, key="pi-1")
    [pending] = app.store.state.payments.values()
    assert pending.stripe_payment_intent_id is None

    created = await app.intent(user, key="pi-1")
    assert created.payment_id == pending.id
    assert created.client_secret is not None
    assert len(app.store.state.payments) == 1
    assert app.gateway_intents() == 1
    assert app.payment(pending.id).stripe_payment_intent_id == created.payment_intent_id


async def test_a_replay_during_an_outage_fails_and_then_replays(app: App) -> None:
    user = await app.user()
    first = await app.intent(user, key="pi-1")
    app.gateway.fail_next("get_payment_intent")
    with pytest.raises(GatewayUnavailable):
        await app.intent(user, key="pi-1")
    assert await app.intent(user, key="pi-1") == first
