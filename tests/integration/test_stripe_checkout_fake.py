"""``StripeGateway``'s Checkout calls against the recording fake (localstripe has none).

The assertions are on what reached the server: the decoded form, the idempotency key,
the pinned version; and on what the gateway makes of Stripe's answers and errors.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.stripe.client import PINNED_API_VERSION, StripeGateway
from application.purchases.gateway import CheckoutRequest, CheckoutStatus
from domain.errors import DomainError, GatewayRejected, GatewayUnavailable
from tests.integration.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_51CreditlineSecretKeyThatMustNeverLeak"
EXPIRES_AT = datetime(2031, 5, 4, 12, 30, tzinfo=UTC)
SESSION = "session_id={CHECKOUT_SESSION_ID}"


@pytest.fixture
async def gateway(fake_stripe: FakeStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(SECRET_KEY, ["whsec_test"], api_base=fake_stripe.base_url)
    yield gateway
    await gateway.aclose()


def checkout_request(success_url: str = "https://app.example/paid") -> CheckoutRequest:
    payment_id = f"pay_{uuid.uuid4().hex}"
    return CheckoutRequest(
        payment_id=payment_id,
        user_id="user_1",
        amount=1000,
        currency="usd",
        credits=1000,
        description="1000 credits",
        success_url=success_url,
        cancel_url="https://app.example/cancelled",
        expires_at=EXPIRES_AT,
        idempotency_key=f"checkout-{payment_id}",
    )


class TestCreate:
    async def test_only_server_values_are_sent(
        self, gateway: StripeGateway, fake_stripe: FakeStripe
    ) -> None:
        request = checkout_request()
        created = await gateway.create_checkout(request)
        assert created.session_id.startswith("cs_test_")
        assert created.url == f"https://checkout.stripe.com/c/pay/{created.session_id}"
        assert (created.expires_at, created.payment_intent_id) == (EXPIRES_AT, None)
        [sent] = fake_stripe.requests
        assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
        assert sent.form == {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": "1000",
                        "product_data": {"name": "1000 credits"},
                    },
                    "quantity": "1",
                }
            ],
            "success_url": f"https://app.example/paid?{SESSION}",
            "cancel_url": "https://app.example/cancelled",
            "expires_at": str(int(EXPIRES_AT.timestamp())),
            "client_reference_id": request.payment_id,
            "metadata": {"payment_id": request.payment_id, "user_id": "user_1", "credits": "1000"},
            "payment_intent_data": {
                "metadata": {"payment_id": request.payment_id, "user_id": "user_1"}
            },
        }

    async def test_headers_carry_the_key_the_version_and_the_credentials(
        self, gateway: StripeGateway, fake_stripe: FakeStripe
    ) -> None:
        request = checkout_request()
        await gateway.create_checkout(request)
        [sent] = fake_stripe.requests
        assert sent.headers["Idempotency-Key"] == request.idempotency_key
        assert sent.headers["Stripe-Version"] == PINNED_API_VERSION
        assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"

    @pytest.mark.parametrize(
        ("success_url", "sent"),
        [
            ("https://app.example/paid?plan=pro", f"https://app.example/paid?plan=pro&{SESSION}"),
            ("https://app.example/paid?", f"https://app.example/paid?{SESSION}"),
            ("https://app.example/#/paid", f"https://app.example/?{SESSION}#/paid"),
        ],
    )
    async def test_the_session_placeholder_joins_any_success_url(
        self, gateway: StripeGateway, fake_stripe: FakeStripe, success_url: str, sent: str
    ) -> None:
        await gateway.create_checkout(checkout_request(success_url))
        assert fake_stripe.requests[0].form["success_url"] == sent

    async def test_the_same_key_replays_the_first_session(
        self, gateway: StripeGateway, fake_stripe: FakeStripe
    ) -> None:
        request = checkout_request()
        first = await gateway.create_checkout(request)
        assert await gateway.create_checkout(request) == first
        assert list(fake_stripe.sessions) == [first.session_id]

    async def test_a_server_error_is_retried_with_the_same_key(
        self, gateway: StripeGateway, fake_stripe: FakeStripe
    ) -> None:
        fake_stripe.fail_next(500, "An unknown error occurred")
        request = checkout_request()
        created = await gateway.create_checkout(request)
        assert [r.headers["Idempotency-Key"] for r in fake_stripe.requests] == [
            request.idempotency_key,
            request.idempotency_key,
        ]
        assert list(fake_stripe.sessions) == [created.session_id]


class TestReadAndExpire:
    async def test_an_open_session(self, gateway: StripeGateway) -> None:
        request = checkout_request()
        created = await gateway.create_checkout(request)
        state = await gateway.get_checkout(created.session_id)
        assert (state.session_id, state.status, state.paid) == (
            created.session_id,
            CheckoutStatus.OPEN,
            False,
        )
        assert (state.amount, state.currency, state.payment_intent_id) == (1000, "usd", None)
        assert state.metadata == {
            "payment_id": request.payment_id,
            "user_id": "user_1",
            "credits": "1000",
        }
        assert (state.url, state.expires_at) == (created.url, EXPIRES_AT)

    @pytest.mark.parametrize(
        ("payment_intent", "paid"),
        [("pi_123", True), ({"id": "pi_123", "object": "payment_intent"}, True), ("pi_123", False)],
        ids=["id", "expanded", "delayed payment"],
    )
    async def test_a_completed_session(
        self,
        gateway: StripeGateway,
        fake_stripe: FakeStripe,
        payment_intent: object,
        paid: bool,
    ) -> None:
        created = await gateway.create_checkout(checkout_request())
        fake_stripe.complete(created.session_id, paid=paid, payment_intent=payment_intent)
        state = await gateway.get_checkout(created.session_id)
        assert (state.status, state.paid, state.payment_intent_id) == (
            CheckoutStatus.COMPLETE,
            paid,
            "pi_123",
        )
        assert state.url is None

    async def test_expire_closes_an_open_session_once(
        self, gateway: StripeGateway, fake_stripe: FakeStripe
    ) -> None:
        created = await gateway.create_checkout(checkout_request())
        expired = await gateway.expire_checkout(created.session_id)
        assert (expired.status, expired.paid) == (CheckoutStatus.EXPIRED, False)
        assert (await gateway.get_checkout(created.session_id)).status is CheckoutStatus.EXPIRED
        with pytest.raises(GatewayRejected, match="status of `expired`"):
            await gateway.expire_checkout(created.session_id)
        assert fake_stripe.requests[1].path == f"/v1/checkout/sessions/{created.session_id}/expire"

    async def test_an_unknown_session_is_rejected(self, gateway: StripeGateway) -> None:
        with pytest.raises(GatewayRejected, match="resource_missing"):
            await gateway.get_checkout("cs_test_unknown")


NO_RETRY = {"Stripe-Should-Retry": "false"}


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (429, "rate_limit_error", GatewayUnavailable),
        (500, "api_error", GatewayUnavailable),
        (503, "api_error", GatewayUnavailable),
        (401, "invalid_request_error", GatewayUnavailable),
        (403, "invalid_request_error", GatewayUnavailable),
        (400, "invalid_request_error", GatewayRejected),
        (402, "card_error", GatewayRejected),
        (404, "invalid_request_error", GatewayRejected),
    ],
)
async def test_errors_map_to_the_domain_and_never_show_the_key(
    gateway: StripeGateway,
    fake_stripe: FakeStripe,
    status: int,
    error_type: str,
    expected: type[DomainError],
) -> None:
    leaked = f"Invalid API Key provided: {SECRET_KEY} (also {SECRET_KEY[:12]}****Leak)"
    fake_stripe.fail_next(status, leaked, error_type, NO_RETRY)
    with pytest.raises(DomainError) as raised:
        await gateway.create_checkout(checkout_request())
    error = raised.value
    assert type(error) is expected
    assert f"status={status}" in error.message
    for shown in (str(error), repr(error), error.message, repr(error.args)):
        assert SECRET_KEY not in shown
        assert "sk_test_" not in shown
    assert error.__cause__ is None and error.__suppress_context__
    assert fake_stripe.sessions == {}


async def test_a_declined_card_names_the_decline(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next(
        402,
        "Your card has insufficient funds.",
        "card_error",
        code="card_declined",
        decline_code="insufficient_funds",
    )
    with pytest.raises(GatewayRejected) as raised:
        await gateway.create_checkout(checkout_request())
    assert raised.value.message == (
        "Stripe rejected the request: Your card has insufficient funds. "
        "code=card_declined decline_code=insufficient_funds status=402"
    )
