"""The sandbox's test checkout page and JSON API, over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.page import format_amount
from application.purchases.gateway import CheckoutRequest, CheckoutStatus, PaymentIntentRequest
from domain.errors import DomainError
from entrypoints.http.sandbox import SandboxController

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Client = AsyncTestClient[Litestar]


class Endpoint:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def __call__(self, body: bytes, signature: str) -> int:
        self.received.append(body)
        return 200


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Stands in for the app's single exception mapping."""
    return Response({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture
def gw(endpoint: Endpoint) -> SandboxGateway:
    return SandboxGateway(["whsec_test"], "http://testserver.local", lambda: T0, endpoint)


@pytest.fixture
async def client(gw: SandboxGateway) -> AsyncIterator[Client]:
    app = Litestar(
        route_handlers=[SandboxController],
        dependencies={"sandbox": Provide(lambda: gw, sync_to_thread=False)},
        exception_handlers={DomainError: _domain_error},
    )
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def open_session(
    gw: SandboxGateway,
    description: str = "1000 credits",
    amount: int = 1000,
    currency: str = "usd",
    success_url: str = "https://app.test/paid",
) -> str:
    request = CheckoutRequest(
        "pay_1", "usr_1", amount, currency, 1000, description, success_url,
        "https://app.test/cancel", T0 + timedelta(hours=1), f"k:{description}{currency}",
    )  # fmt: skip
    return (await gw.create_checkout(request)).session_id


async def test_page_shows_amount_cards_and_controls(gw: SandboxGateway, client: Client) -> None:
    session_id = await open_session(gw)
    response = await client.get(f"/sandbox/checkout/{session_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<h1 id="amount">$10.00</h1>' in page
    assert "TEST MODE" in page and "1000 credits" in page
    for element in ('id="pay"', 'id="card-number"', 'id="result"', 'id="auth-complete"',
                    'id="auth-fail"'):  # fmt: skip
        assert element in page
    for card in ("4242 4242 4242 4242", "4000 0025 0000 3155", "4000 0000 0000 9995",
                 "4000 0000 0000 0069"):  # fmt: skip
        assert card in page
    assert f'href="https://app.test/paid?session_id={session_id}"' in page
    assert 'href="https://app.test/cancel"' in page
    assert f'data-pay-url="{session_id}/pay"' in page
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"])
    assert nonce is not None and f'<script nonce="{nonce.group(1)}">' in page
    assert "http" not in page.split("<script", 1)[1].split("</script>")[0]


async def test_page_escapes_what_the_merchant_sent(gw: SandboxGateway, client: Client) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    session_id = await open_session(gw, description=evil, success_url="javascript:alert(1)")
    page = (await client.get(f"/sandbox/checkout/{session_id}")).text
    assert evil not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "javascript:" not in page
    assert 'id="success-link" href="#"' in page


async def test_a_paid_session_page_links_back(gw: SandboxGateway, client: Client) -> None:
    session_id = await open_session(gw)
    await gw.pay_checkout(session_id, "4242 4242 4242 4242")
    page = (await client.get(f"/sandbox/checkout/{session_id}")).text
    assert "already paid" in page
    assert '<form id="pay-form" hidden>' in page


async def test_unknown_session_is_a_404_page(client: Client) -> None:
    response = await client.get("/sandbox/checkout/cs_test_missing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Checkout not found" in response.text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(1000, "usd", "$10.00"), (5, "eur", "€0.05"), (500, "jpy", "¥500"),
     (1234, "chf", "12.34 CHF"), (1250, "bhd", "1.250 BHD")],
)  # fmt: skip
def test_amounts_are_formatted_from_minor_units(amount: int, currency: str, shown: str) -> None:
    assert format_amount(amount, currency) == shown


async def test_pay_answers_status_and_stripe_events(
    gw: SandboxGateway, client: Client, endpoint: Endpoint
) -> None:
    session_id = await open_session(gw)
    response = await client.post(
        f"/sandbox/checkout/{session_id}/pay", json={"card_number": "4242 4242 4242 4242"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["message"]) == ("succeeded", "Payment succeeded")
    assert [e["type"] for e in body["events"]] == [
        "payment_intent.succeeded", "checkout.session.completed",
    ]  # fmt: skip
    assert body["events"][1]["data"]["object"]["payment_status"] == "paid"
    assert len(endpoint.received) == 2
    again = await client.post(
        f"/sandbox/checkout/{session_id}/pay", json={"card_number": "4242424242424242"}
    )
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "checkout_session_complete"


async def test_a_declined_card_with_lost_webhooks(
    gw: SandboxGateway, client: Client, endpoint: Endpoint
) -> None:
    session_id = await open_session(gw)
    response = await client.post(
        f"/sandbox/checkout/{session_id}/pay",
        json={"card_number": "4000 0000 0000 9995", "deliver": "never"},
    )
    body = response.json()
    assert (response.status_code, body["status"]) == (200, "failed")
    assert body["message"] == "Your card has insufficient funds."
    assert [e["type"] for e in body["events"]] == ["payment_intent.payment_failed"]
    assert endpoint.received == []
    assert (await gw.get_checkout(session_id)).status is CheckoutStatus.OPEN


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        ("/sandbox/checkout/{sid}/pay", {"card_number": "1234"}, 400, "unknown_test_card"),
        ("/sandbox/checkout/cs_test_x/pay", {"card_number": "4242424242424242"}, 404, "not_found"),
        ("/sandbox/payment-intents/pi_x/confirm", {"card_number": "4242424242424242"}, 404,
         "not_found"),
        ("/sandbox/authenticate/{sid}", {"succeed": True}, 422, "authentication_not_required"),
    ],
)  # fmt: skip
async def test_errors_carry_a_stable_code(
    gw: SandboxGateway, client: Client, path: str, payload: dict[str, Any], status: int, code: str
) -> None:
    session_id = await open_session(gw)
    response = await client.post(path.format(sid=session_id), json=payload)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "payload", [{}, {"card_number": "4242424242424242", "deliver": "later"}, {"card": "4242"}]
)
async def test_malformed_bodies_are_400(
    gw: SandboxGateway, client: Client, payload: dict[str, Any]
) -> None:
    session_id = await open_session(gw)
    response = await client.post(f"/sandbox/checkout/{session_id}/pay", json=payload)
    assert response.status_code == 400
    assert (await gw.get_checkout(session_id)).status is CheckoutStatus.OPEN


async def test_3d_secure_through_the_api(gw: SandboxGateway, client: Client) -> None:
    session_id = await open_session(gw)
    step = await client.post(
        f"/sandbox/checkout/{session_id}/pay", json={"card_number": "4000002500003155"}
    )
    assert step.json()["status"] == "requires_action" and step.json()["events"] == []
    done = await client.post(f"/sandbox/authenticate/{session_id}", json={"succeed": True})
    assert done.json()["status"] == "succeeded"
    assert (await gw.get_checkout(session_id)).paid is True


async def test_confirm_a_payment_intent(gw: SandboxGateway, client: Client) -> None:
    intent = await gw.create_payment_intent(
        PaymentIntentRequest("pay_2", "usr_1", 500, "usd", 500, "500 credits", "intent:pay_2")
    )
    response = await client.post(
        f"/sandbox/payment-intents/{intent.intent_id}/confirm",
        json={"card_number": "4000 0000 0000 0069"},
    )
    body = response.json()
    assert (body["status"], body["message"]) == ("failed", "Your card has expired.")
    response = await client.post(
        f"/sandbox/payment-intents/{intent.intent_id}/confirm",
        json={"card_number": "4242 4242 4242 4242"},
    )
    assert [e["type"] for e in response.json()["events"]] == ["payment_intent.succeeded"]


async def test_expire_without_a_body(gw: SandboxGateway, client: Client) -> None:
    session_id = await open_session(gw)
    response = await client.post(f"/sandbox/checkout/{session_id}/expire")
    assert response.status_code == 200
    assert [e["type"] for e in response.json()["events"]] == ["checkout.session.expired"]
    again = await client.post(f"/sandbox/checkout/{session_id}/expire", json={"deliver": "never"})
    assert (again.status_code, again.json()["error"]["code"]) == (422, "checkout_session_expired")
