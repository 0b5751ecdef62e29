"""The memory gateway's test helpers: hand-made signed events and simulated outages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.gateway import MemoryGateway
from application.purchases.gateway import CheckoutRequest
from application.refunds.gateway import RefundRequest
from application.webhooks.events import CheckoutCompleted, PaymentSucceeded
from domain.errors import GatewayUnavailable, IdempotencyKeyReused

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def checkout(payment_id: str = "pay_1", amount: int = 1000) -> CheckoutRequest:
    return CheckoutRequest(
        payment_id, "usr_1", amount, "usd", amount, "credits", "https://app.test/ok",
        "https://app.test/cancel", T0 + timedelta(hours=1), f"checkout:{payment_id}",
    )  # fmt: skip


@pytest.fixture
def gw() -> MemoryGateway:
    return MemoryGateway(lambda: T0)


async def test_an_outage_before_the_call_changes_nothing(gw: MemoryGateway) -> None:
    gw.fail_next()
    with pytest.raises(GatewayUnavailable):
        await gw.create_checkout(checkout())
    # The key was never used, so it is free for other parameters.
    created = await gw.create_checkout(checkout(amount=2000))
    assert (await gw.get_checkout(created.session_id)).amount == 2000


async def test_a_lost_answer_is_repaired_by_the_idempotency_key(gw: MemoryGateway) -> None:
    gw.fail_next("create_checkout", after=True)
    with pytest.raises(GatewayUnavailable):
        await gw.create_checkout(checkout())
    # The gateway did act: the key is taken, and retrying it replays the session.
    with pytest.raises(IdempotencyKeyReused):
        await gw.create_checkout(checkout(amount=2000))
    created = await gw.create_checkout(checkout())
    assert (await gw.get_checkout(created.session_id)).amount == 1000


async def test_faults_target_one_operation_and_count_down(gw: MemoryGateway) -> None:
    created = await gw.create_checkout(checkout())
    await gw.pay_checkout(created.session_id, "4242 4242 4242 4242")
    gw.fail_next("refund", times=2)
    assert (await gw.get_checkout(created.session_id)).paid is True
    request = RefundRequest("pay_1", created.payment_intent_id or "", 100, None, "r1")
    for _ in range(2):
        with pytest.raises(GatewayUnavailable):
            await gw.refund(request)
    assert (await gw.refund(request)).amount == 100


async def test_make_event_signs_a_stripe_event_for_webhook_tests(gw: MemoryGateway) -> None:
    body, signature = gw.make_event(
        "payment_intent.succeeded",
        {
            "id": "pi_123", "object": "payment_intent", "status": "succeeded",
            "amount_received": 1000, "currency": "usd", "metadata": {"payment_id": "pay_1"},
        },
        event_id="evt_fixed",
    )  # fmt: skip
    event = gw.parse_event(body, signature)
    assert isinstance(event, PaymentSucceeded)
    assert event.event_id == "evt_fixed"
    assert event.amount == 1000
    assert event.payment.metadata == {"payment_id": "pay_1"}
    assert await gw.list_events(T0) == []


async def test_signed_events_from_an_outcome_verify(gw: MemoryGateway) -> None:
    created = await gw.create_checkout(checkout())
    outcome = await gw.pay_checkout(created.session_id, "4242424242424242")
    kinds = [type(gw.parse_event(*gw.signed(event))) for event in outcome.events]
    assert kinds == [PaymentSucceeded, CheckoutCompleted]
    assert gw.deliveries == ()
