"""The sandbox gateway behaves like Stripe in test mode, and its events are Stripe's.

Every test runs against both the sandbox and the memory fake built on it. The clock is
fixed far from the wall clock on purpose: signatures must verify on the gateway's clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from adapters.memory.gateway import MemoryGateway
from adapters.sandbox.gateway import SandboxGateway
from adapters.stripe.events import parse_event, translate_event
from adapters.stripe.signatures import sign_payload
from application.purchases.gateway import (
    CheckoutRequest,
    CheckoutStatus,
    IntentStatus,
    PaymentIntentRequest,
)
from application.refunds.gateway import RefundRequest, RefundStatus
from application.webhooks.events import (
    CheckoutCompleted,
    CheckoutExpired,
    PaymentCanceled,
    PaymentFailed,
    PaymentSucceeded,
    RefundsReported,
    Unhandled,
)
from application.webhooks.gateway import InvalidSignature, MalformedEvent
from domain.errors import GatewayRejected, IdempotencyKeyReused, NotFound, ValidationFailed

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET, OLD_SECRET = "whsec_current", "whsec_previous"
PAID, SECURE = "4242 4242 4242 4242", "4000 0025 0000 3155"
NO_FUNDS, EXPIRED_CARD = "4000 0000 0000 9995", "4000 0000 0000 0069"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Endpoint:
    """A webhook endpoint that verifies what it receives, like ours."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[bytes, str]] = []

    async def __call__(self, body: bytes, signature: str) -> int:
        self.received.append((body, signature))
        return self.status

    def types(self) -> list[str]:
        return [msgspec.json.decode(body)["type"] for body, _ in self.received]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture(params=["sandbox", "memory"])
def gw(request: pytest.FixtureRequest, clock: Clock, endpoint: Endpoint) -> SandboxGateway:
    if request.param == "memory":
        return MemoryGateway(clock.now, webhook_secret=SECRET, deliver=endpoint)
    return SandboxGateway([SECRET, OLD_SECRET], "http://sandbox.test/", clock.now, endpoint)


def checkout(payment_id: str = "pay_1", amount: int = 1000, **kw: object) -> CheckoutRequest:
    fields: dict[str, object] = {
        "payment_id": payment_id, "user_id": "usr_1", "amount": amount, "currency": "usd",
        "credits": amount, "description": "1000 credits", "success_url": "https://app.test/ok",
        "cancel_url": "https://app.test/cancel", "expires_at": T0 + timedelta(hours=1),
        "idempotency_key": f"checkout:{payment_id}",
    }  # fmt: skip
    fields.update(kw)
    return CheckoutRequest(**fields)  # type: ignore[arg-type]


def intent_request(payment_id: str = "pay_2", amount: int = 500) -> PaymentIntentRequest:
    return PaymentIntentRequest(
        payment_id, "usr_1", amount, "usd", amount, "500 credits", f"intent:{payment_id}"
    )


def refund_request(intent_id: str, amount: int, key: str, reason: str | None = None):
    return RefundRequest("pay_1", intent_id, amount, reason, key)


async def test_checkout_is_created_like_stripe(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    assert created.session_id.startswith("cs_test_")
    assert created.payment_intent_id is not None and created.payment_intent_id.startswith("pi_")
    assert created.url.endswith(f"/sandbox/checkout/{created.session_id}")
    state = await gw.get_checkout(created.session_id)
    assert (state.status, state.paid, state.amount, state.currency) == (
        CheckoutStatus.OPEN, False, 1000, "usd",
    )  # fmt: skip
    assert state.metadata == {"payment_id": "pay_1", "user_id": "usr_1", "credits": "1000"}
    intent = await gw.get_payment_intent(created.payment_intent_id)
    assert intent.metadata == {"payment_id": "pay_1", "user_id": "usr_1"}
    assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD


async def test_sandbox_urls_use_the_public_url(clock: Clock) -> None:
    gw = SandboxGateway([SECRET], "https://staging.example.com/", clock.now)
    created = await gw.create_checkout(checkout())
    assert created.url == f"https://staging.example.com/sandbox/checkout/{created.session_id}"


async def test_creates_replay_by_idempotency_key(gw: SandboxGateway) -> None:
    first, again = await gw.create_checkout(checkout()), await gw.create_checkout(checkout())
    assert again == first
    assert (await gw.create_checkout(checkout("pay_9"))).session_id != first.session_id
    with pytest.raises(IdempotencyKeyReused):
        await gw.create_checkout(checkout(amount=2000))
    intent = await gw.create_payment_intent(intent_request())
    assert (await gw.create_payment_intent(intent_request())).intent_id == intent.intent_id


@pytest.mark.parametrize("lifetime", [timedelta(minutes=29), timedelta(hours=24, seconds=1)])
async def test_checkout_lifetime_is_stripes(gw: SandboxGateway, lifetime: timedelta) -> None:
    with pytest.raises(GatewayRejected) as error:
        await gw.create_checkout(checkout(expires_at=T0 + lifetime))
    assert error.value.code == "invalid_expires_at"


async def test_paid_checkout_emits_payment_then_session_events(
    gw: SandboxGateway, endpoint: Endpoint
) -> None:
    created = await gw.create_checkout(checkout())
    outcome = await gw.pay_checkout(created.session_id, PAID)
    assert outcome.status == "succeeded"
    types = ["payment_intent.succeeded", "checkout.session.completed"]
    assert [e.type for e in outcome.events] == types
    assert endpoint.types() == types
    succeeded, completed = (e.translate() for e in outcome.events)
    assert isinstance(succeeded, PaymentSucceeded)
    assert (succeeded.amount, succeeded.currency) == (1000, "usd")
    assert succeeded.payment.intent_id == created.payment_intent_id
    assert succeeded.payment.metadata == {"payment_id": "pay_1", "user_id": "usr_1"}
    assert isinstance(completed, CheckoutCompleted)
    assert (completed.payment.session_id, completed.amount, completed.paid) == (
        created.session_id, 1000, True,
    )  # fmt: skip
    assert completed.payment.intent_id == created.payment_intent_id
    assert completed.payment.metadata["credits"] == "1000"
    state = await gw.get_checkout(created.session_id)
    assert (state.status, state.paid) == (CheckoutStatus.COMPLETE, True)
    assert state.url is None
    intent = await gw.get_payment_intent(created.payment_intent_id or "")
    assert (intent.status, intent.amount_received) == (IntentStatus.SUCCEEDED, 1000)


@pytest.mark.parametrize(
    ("card", "reason", "message"),
    [
        (NO_FUNDS, "insufficient_funds", "Your card has insufficient funds."),
        (EXPIRED_CARD, "expired_card", "Your card has expired."),
    ],
)
async def test_declined_card_fails_and_leaves_session_open(
    gw: SandboxGateway, card: str, reason: str, message: str
) -> None:
    created = await gw.create_checkout(checkout())
    outcome = await gw.pay_checkout(created.session_id, card)
    assert (outcome.status, outcome.message) == ("failed", message)
    [failed] = outcome.payloads()
    assert failed["type"] == "payment_intent.payment_failed"
    error = failed["data"]["object"]["last_payment_error"]
    assert error["message"] == message
    assert (error["code"], error.get("decline_code")) == (
        ("card_declined", "insufficient_funds") if card == NO_FUNDS else ("expired_card", None)
    )
    event = translate_event(failed)
    assert isinstance(event, PaymentFailed) and event.reason == reason
    assert event.payment.metadata["payment_id"] == "pay_1"
    assert (await gw.get_checkout(created.session_id)).status is CheckoutStatus.OPEN
    intent = await gw.get_payment_intent(created.payment_intent_id or "")
    assert intent.failure_reason == reason
    retried = await gw.pay_checkout(created.session_id, PAID)
    assert retried.status == "succeeded"


async def test_3d_secure_waits_then_completes(gw: SandboxGateway, endpoint: Endpoint) -> None:
    created = await gw.create_checkout(checkout())
    outcome = await gw.pay_checkout(created.session_id, SECURE)
    assert (outcome.status, outcome.events) == ("requires_action", ())
    assert endpoint.received == []
    intent = await gw.get_payment_intent(created.payment_intent_id or "")
    assert intent.status is IntentStatus.REQUIRES_ACTION
    done = await gw.authenticate(created.session_id, succeed=True)
    assert [e.type for e in done.events] == [
        "payment_intent.succeeded", "checkout.session.completed",
    ]  # fmt: skip
    assert (await gw.get_checkout(created.session_id)).paid is True


async def test_3d_secure_failure_is_a_payment_failure(gw: SandboxGateway) -> None:
    intent = await gw.create_payment_intent(intent_request())
    await gw.confirm_payment_intent(intent.intent_id, SECURE)
    outcome = await gw.authenticate(intent.intent_id, succeed=False)
    assert outcome.status == "failed"
    [failed] = outcome.payloads()
    assert failed["data"]["object"]["last_payment_error"]["code"] == (
        "payment_intent_authentication_failure"
    )
    event = translate_event(failed)
    assert isinstance(event, PaymentFailed)
    assert event.reason == "payment_intent_authentication_failure"
    with pytest.raises(GatewayRejected) as error:
        await gw.authenticate(intent.intent_id, succeed=True)
    assert error.value.code == "authentication_not_required"


async def test_bare_payment_intent_emits_only_its_own_event(gw: SandboxGateway) -> None:
    intent = await gw.create_payment_intent(intent_request())
    assert intent.client_secret is not None and intent.client_secret.startswith(intent.intent_id)
    assert intent.metadata == {"payment_id": "pay_2", "user_id": "usr_1", "credits": "500"}
    outcome = await gw.confirm_payment_intent(intent.intent_id, PAID)
    assert [e.type for e in outcome.events] == ["payment_intent.succeeded"]
    assert outcome.events[0].translate().amount == 500
    with pytest.raises(GatewayRejected) as error:
        await gw.confirm_payment_intent(intent.intent_id, PAID)
    assert error.value.code == "payment_intent_unexpected_state"


async def test_a_checkouts_intent_is_driven_through_its_session(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    for call in (
        gw.confirm_payment_intent(created.payment_intent_id or "", PAID),
        gw.cancel_payment_intent(created.payment_intent_id or ""),
    ):
        with pytest.raises(GatewayRejected) as error:
            await call
        assert error.value.code == "intent_belongs_to_checkout"


async def test_unknown_cards_and_objects_are_refused(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    with pytest.raises(ValidationFailed) as error:
        await gw.pay_checkout(created.session_id, "5555 5555 5555 4444")
    assert error.value.code == "unknown_test_card"
    assert "5555" not in error.value.message
    with pytest.raises(NotFound):
        await gw.pay_checkout("cs_test_nope", PAID)
    with pytest.raises(NotFound):
        await gw.get_payment_intent("pi_nope")
    await gw.pay_checkout(created.session_id, "4242-4242-4242-4242")
    with pytest.raises(GatewayRejected) as paid_twice:
        await gw.pay_checkout(created.session_id, PAID)
    assert paid_twice.value.code == "checkout_session_complete"


async def test_expiring_a_session(gw: SandboxGateway, endpoint: Endpoint) -> None:
    created = await gw.create_checkout(checkout())
    state = await gw.expire_checkout(created.session_id)
    assert (state.status, state.paid, state.url) == (CheckoutStatus.EXPIRED, False, None)
    assert endpoint.types() == ["checkout.session.expired"]
    event = (await gw.event_payloads())[-1]
    expired = translate_event(event)
    assert isinstance(expired, CheckoutExpired)
    assert expired.payment.session_id == created.session_id
    session_id = created.session_id
    for call in (gw.pay_checkout(session_id, PAID), gw.expire_checkout_now(session_id)):
        with pytest.raises(GatewayRejected) as error:
            await call
        assert error.value.code == "checkout_session_expired"


async def test_a_completed_session_cannot_expire(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    await gw.pay_checkout(created.session_id, PAID)
    with pytest.raises(GatewayRejected) as error:
        await gw.expire_checkout(created.session_id)
    assert error.value.code == "checkout_session_complete"


async def test_a_session_used_after_expires_at_expires_then(
    gw: SandboxGateway, clock: Clock, endpoint: Endpoint
) -> None:
    created = await gw.create_checkout(checkout())
    clock.at = created.expires_at
    with pytest.raises(GatewayRejected) as error:
        await gw.pay_checkout(created.session_id, PAID)
    assert error.value.code == "checkout_session_expired"
    assert endpoint.types() == ["checkout.session.expired"]
    assert (await gw.get_checkout(created.session_id)).status is CheckoutStatus.EXPIRED


async def test_cancel_a_payment_intent(gw: SandboxGateway, endpoint: Endpoint) -> None:
    intent = await gw.create_payment_intent(intent_request())
    state = await gw.cancel_payment_intent(intent.intent_id)
    assert (state.status, state.failure_reason) == (IntentStatus.CANCELED, "abandoned")
    [body] = [body for body, _ in endpoint.received]
    event = gw.parse_event(body, endpoint.received[0][1])
    assert isinstance(event, PaymentCanceled) and event.reason == "abandoned"
    with pytest.raises(GatewayRejected):
        await gw.cancel_payment_intent(intent.intent_id)


async def test_refunds_are_cumulative_and_capped(gw: SandboxGateway, endpoint: Endpoint) -> None:
    created = await gw.create_checkout(checkout())
    intent_id = created.payment_intent_id or ""
    with pytest.raises(GatewayRejected) as unpaid:
        await gw.refund(refund_request(intent_id, 100, "r0"))
    assert unpaid.value.code == "charge_not_paid"
    await gw.pay_checkout(created.session_id, PAID)
    endpoint.received.clear()

    first = await gw.refund(refund_request(intent_id, 300, "r1", "requested_by_customer"))
    assert first.refund_id.startswith("re_")
    assert (first.amount, first.currency, first.status) == (300, "usd", RefundStatus.SUCCEEDED)
    assert endpoint.types() == ["charge.refunded", "refund.created"]
    with pytest.raises(GatewayRejected) as too_much:
        await gw.refund(refund_request(intent_id, 701, "r2"))
    assert too_much.value.code == "refund_exceeds_remaining"
    second = await gw.refund(refund_request(intent_id, 700, "r3", "customer changed mind"))

    charge_refunded = (await gw.event_payloads())[-2]
    charge = charge_refunded["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (1000, True)
    assert charge["refunds"]["has_more"] is False
    assert {r["id"] for r in charge["refunds"]["data"]} == {first.refund_id, second.refund_id}
    assert charge["refunds"]["data"][0]["metadata"] == {
        "payment_id": "pay_1", "reason": "customer changed mind",
    }  # fmt: skip
    event = translate_event(charge_refunded)
    assert isinstance(event, RefundsReported)
    assert (event.payment.intent_id, event.amount_refunded) == (intent_id, 1000)
    assert event.refunds is not None and {r.amount for r in event.refunds} == {300, 700}
    created_event = translate_event((await gw.event_payloads())[-1])
    assert isinstance(created_event, RefundsReported) and created_event.refunds is not None
    assert created_event.refunds[0].refund_id == second.refund_id
    assert [r.amount for r in await gw.list_refunds(intent_id)] == [300, 700]
    with pytest.raises(GatewayRejected) as exhausted:
        await gw.refund(refund_request(intent_id, 1, "r4"))
    assert exhausted.value.code == "charge_already_refunded"


async def test_a_replayed_refund_returns_the_same_refund_silently(
    gw: SandboxGateway, endpoint: Endpoint
) -> None:
    intent = await gw.create_payment_intent(intent_request())
    await gw.confirm_payment_intent(intent.intent_id, PAID)
    first = await gw.refund(refund_request(intent.intent_id, 200, "refund:pay_2:0:200"))
    delivered = len(endpoint.received)
    again = await gw.refund(refund_request(intent.intent_id, 200, "refund:pay_2:0:200"))
    assert again == first
    assert len(endpoint.received) == delivered
    assert len(await gw.list_refunds(intent.intent_id)) == 1


async def test_every_event_is_stripe_shaped_and_round_trips(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    await gw.pay_checkout(created.session_id, NO_FUNDS)
    await gw.pay_checkout(created.session_id, PAID)
    await gw.refund(refund_request(created.payment_intent_id or "", 100, "r1"))
    payloads = await gw.event_payloads()
    assert len(payloads) == 5
    for payload in payloads:
        assert payload["id"].startswith("evt_")
        assert (payload["object"], payload["livemode"]) == ("event", False)
        assert payload["created"] == int(T0.timestamp())
        assert payload["api_version"]
        assert isinstance(payload["data"]["object"], dict)
        assert translate_event(payload).event_id == payload["id"]
        assert not isinstance(translate_event(payload), Unhandled)


async def test_delivered_events_verify_with_the_current_secret(
    gw: SandboxGateway, endpoint: Endpoint
) -> None:
    created = await gw.create_checkout(checkout())
    await gw.pay_checkout(created.session_id, PAID)
    for body, signature in endpoint.received:
        assert signature.startswith(f"t={int(T0.timestamp())},v1=")
        event = gw.parse_event(body, signature)
        assert isinstance(event, PaymentSucceeded | CheckoutCompleted)
        assert event.payment.intent_id == created.payment_intent_id
        # The Stripe adapter's verifier agrees (its wall-clock age check switched off).
        assert parse_event(body, signature, [SECRET], tolerance=0).event_id


async def test_parse_event_rejects_bad_stale_and_malformed_bodies(
    gw: SandboxGateway, clock: Clock, endpoint: Endpoint
) -> None:
    created = await gw.create_checkout(checkout())
    await gw.pay_checkout(created.session_id, PAID)
    body, signature = endpoint.received[0]
    with pytest.raises(InvalidSignature):
        gw.parse_event(body + b" ", signature)
    with pytest.raises(InvalidSignature):
        gw.parse_event(body, None)
    forged = sign_payload(body, "whsec_someone_else", int(T0.timestamp()))
    with pytest.raises(InvalidSignature):
        gw.parse_event(body, forged)
    with pytest.raises(MalformedEvent):
        gw.parse_event(b"not json", gw.sign(b"not json"))
    clock.at = T0 + timedelta(seconds=301)
    with pytest.raises(InvalidSignature):
        gw.parse_event(body, signature)


async def test_deliver_never_keeps_events_for_reconciliation(
    gw: SandboxGateway, clock: Clock, endpoint: Endpoint
) -> None:
    created = await gw.create_checkout(checkout())
    clock.at = T0 + timedelta(minutes=5)
    outcome = await gw.pay_checkout(created.session_id, PAID, deliver="never")
    assert len(outcome.events) == 2
    assert endpoint.received == [] and gw.deliveries == ()
    listed = await gw.list_events(T0 + timedelta(minutes=5))
    assert [e.event_id for e in listed] == [e.id for e in outcome.events]
    assert await gw.list_events(T0 + timedelta(minutes=6)) == []
    assert (await gw.get_checkout(created.session_id)).paid is True


async def test_failed_deliveries_are_kept_and_can_be_redelivered(
    gw: SandboxGateway, endpoint: Endpoint
) -> None:
    endpoint.status = 503
    created = await gw.create_checkout(checkout())
    outcome = await gw.pay_checkout(created.session_id, PAID)
    assert outcome.status == "succeeded"
    assert [d.event_type for d in gw.failed_deliveries] == [
        "payment_intent.succeeded", "checkout.session.completed",
    ]  # fmt: skip
    assert {d.status for d in gw.failed_deliveries} == {503}
    endpoint.status = 200
    assert await gw.redeliver(outcome.events[1].id) == 200
    assert endpoint.received[-1][0] == outcome.events[1].body
    assert gw.deliveries[-1].ok
    with pytest.raises(NotFound):
        await gw.redeliver("evt_nope")


async def test_an_endpoint_that_crashes_counts_as_a_500(clock: Clock) -> None:
    async def crash(body: bytes, signature: str) -> int:
        raise RuntimeError("database is down")

    gw = SandboxGateway([SECRET], "http://sandbox.test", clock.now, crash)
    created = await gw.create_checkout(checkout())
    assert (await gw.pay_checkout(created.session_id, PAID)).status == "succeeded"
    assert [(d.status, d.error) for d in gw.failed_deliveries] == [
        (500, "RuntimeError: database is down")
    ] * 2


async def test_the_webhook_path_may_call_back_into_the_gateway(clock: Clock) -> None:
    """Delivery happens outside the lock: our handler lists refunds or reads sessions."""
    seen: list[int] = []

    async def handler(body: bytes, signature: str) -> int:
        event = gw.parse_event(body, signature)
        assert isinstance(event, PaymentSucceeded | CheckoutCompleted | RefundsReported)
        seen.append(len(await gw.list_refunds(event.payment.intent_id or "")))
        return 200

    gw = SandboxGateway([SECRET], "http://sandbox.test", clock.now, handler)
    created = await gw.create_checkout(checkout())
    await asyncio.wait_for(gw.pay_checkout(created.session_id, PAID), timeout=2)
    await asyncio.wait_for(
        gw.refund(refund_request(created.payment_intent_id or "", 100, "r1")), timeout=2
    )
    assert seen == [0, 0, 1, 1]


async def test_concurrent_payments_of_one_session_succeed_once(gw: SandboxGateway) -> None:
    created = await gw.create_checkout(checkout())
    results = await asyncio.gather(
        *(gw.pay_checkout(created.session_id, PAID) for _ in range(5)), return_exceptions=True
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert [e["type"] for e in (await gw.event_payloads())].count("payment_intent.succeeded") == 1
