"""``StripeGateway`` against localstripe: PaymentIntents, refunds, events and webhooks.

What a customer's browser would do (attach a card, confirm) goes through a raw
``StripeClient``; everything creditline does goes through the gateway. localstripe is
shared by the session, so each test works on objects it created itself.
"""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from adapters.stripe import client as client_module
from adapters.stripe.client import StripeGateway
from application.purchases.gateway import IntentStatus, PaymentIntentRequest, PaymentIntentState
from application.refunds.gateway import RefundRequest, RefundStatus
from application.webhooks.events import (
    GatewayEvent,
    PaymentEvent,
    PaymentFailed,
    PaymentSucceeded,
    RefundsReported,
)
from application.webhooks.gateway import InvalidSignature
from domain.errors import GatewayRejected, GatewayUnavailable
from tests.integration.conftest import (
    LOCALSTRIPE_SECRET_KEY,
    WEBHOOK_SECRET,
    RegisterWebhook,
)
from tests.integration.webhook_receiver import WebhookReceiver

VISA = "pm_card_visa"
DECLINED_ON_CHARGE = "pm_card_chargeCustomerFail"  # 4000 0000 0000 0341


def intent_request(amount: int = 1000, key: str | None = None) -> PaymentIntentRequest:
    payment_id = f"pay_{uuid.uuid4().hex}"
    return PaymentIntentRequest(
        payment_id=payment_id,
        user_id="user_1",
        amount=amount,
        currency="usd",
        credits=amount,
        description=f"{amount} credits",
        idempotency_key=key or f"intent-{payment_id}",
    )


def refund_request(
    state: PaymentIntentState, amount: int, reason: str | None = None
) -> RefundRequest:
    return RefundRequest(
        payment_id=state.metadata["payment_id"],
        payment_intent_id=state.intent_id,
        amount=amount,
        reason=reason,
        idempotency_key=f"refund-{uuid.uuid4().hex}",
    )


async def pay(raw: stripe.StripeClient, intent_id: str, payment_method: str = VISA) -> None:
    """The browser's part; localstripe confirms only with the method already set."""
    await raw.v1.payment_intents.update_async(intent_id, {"payment_method": payment_method})
    await raw.v1.payment_intents.confirm_async(intent_id)


async def paid_intent(
    gateway: StripeGateway, raw: stripe.StripeClient, amount: int = 1000
) -> PaymentIntentState:
    state = await gateway.create_payment_intent(intent_request(amount))
    await pay(raw, state.intent_id)
    return state


class TestPaymentIntents:
    async def test_create_returns_a_client_secret_and_only_server_metadata(
        self, localstripe_gateway: StripeGateway
    ) -> None:
        request = intent_request(1500)
        state = await localstripe_gateway.create_payment_intent(request)
        assert state.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        assert (state.amount, state.amount_received, state.currency) == (1500, 0, "usd")
        assert state.client_secret is not None
        assert state.client_secret.startswith(f"{state.intent_id}_secret_")
        assert state.metadata == {
            "payment_id": request.payment_id,
            "user_id": "user_1",
            "credits": "1500",
        }
        assert await localstripe_gateway.get_payment_intent(state.intent_id) == state

    async def test_the_same_idempotency_key_returns_the_same_intent(
        self, localstripe_gateway: StripeGateway
    ) -> None:
        request = intent_request()
        first = await localstripe_gateway.create_payment_intent(request)
        again = await localstripe_gateway.create_payment_intent(request)
        other = await localstripe_gateway.create_payment_intent(intent_request())
        assert again.intent_id == first.intent_id
        assert other.intent_id != first.intent_id

    async def test_a_key_reused_with_other_parameters_is_rejected(
        self, localstripe_gateway: StripeGateway
    ) -> None:
        request = intent_request(1000)
        await localstripe_gateway.create_payment_intent(request)
        with pytest.raises(GatewayRejected, match="same parameters"):
            await localstripe_gateway.create_payment_intent(
                intent_request(2000, key=request.idempotency_key)
            )

    async def test_a_confirmed_card_payment_succeeds(
        self, localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
    ) -> None:
        created = await paid_intent(localstripe_gateway, localstripe_client, 2500)
        state = await localstripe_gateway.get_payment_intent(created.intent_id)
        assert state.status is IntentStatus.SUCCEEDED
        assert (state.amount_received, state.failure_reason) == (2500, None)

    async def test_cancel(self, localstripe_gateway: StripeGateway) -> None:
        created = await localstripe_gateway.create_payment_intent(intent_request())
        canceled = await localstripe_gateway.cancel_payment_intent(created.intent_id)
        assert canceled.status is IntentStatus.CANCELED
        assert canceled.failure_reason == "canceled"
        assert await localstripe_gateway.get_payment_intent(created.intent_id) == canceled

    async def test_a_declined_card_leaves_the_intent_awaiting_another_method(
        self, localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
    ) -> None:
        created = await localstripe_gateway.create_payment_intent(intent_request())
        with pytest.raises(stripe.CardError):
            await pay(localstripe_client, created.intent_id, DECLINED_ON_CHARGE)
        state = await localstripe_gateway.get_payment_intent(created.intent_id)
        assert state.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        assert (state.amount_received, state.failure_reason) == (0, "card_declined")
        with pytest.raises(GatewayRejected, match="Cannot refund a failed payment"):
            await localstripe_gateway.refund(refund_request(state, 1000))

    async def test_an_unknown_intent_is_rejected(self, localstripe_gateway: StripeGateway) -> None:
        with pytest.raises(GatewayRejected, match="status=404"):
            await localstripe_gateway.get_payment_intent("pi_doesnotexist")


class TestRefunds:
    async def test_partial_refunds_add_up_and_are_all_listed(
        self, localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
    ) -> None:
        state = await paid_intent(localstripe_gateway, localstripe_client)
        first = await localstripe_gateway.refund(
            refund_request(state, 300, "requested_by_customer")
        )
        second = await localstripe_gateway.refund(refund_request(state, 700, "goodwill"))
        assert (first.amount, first.currency, first.status) == (300, "usd", RefundStatus.SUCCEEDED)
        assert first.payment_intent_id == state.intent_id
        listed = await localstripe_gateway.list_refunds(state.intent_id)
        assert {r.refund_id: r.amount for r in listed} == {
            first.refund_id: 300,
            second.refund_id: 700,
        }
        stripe_reason = await localstripe_client.v1.refunds.retrieve_async(first.refund_id)
        our_reason = await localstripe_client.v1.refunds.retrieve_async(second.refund_id)
        assert stripe_reason.reason == "requested_by_customer"
        assert our_reason.reason is None
        assert our_reason.metadata.to_dict() == {
            "payment_id": state.metadata["payment_id"],
            "reason": "goodwill",
        }

    async def test_a_full_refund_and_its_replay(
        self, localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
    ) -> None:
        state = await paid_intent(localstripe_gateway, localstripe_client)
        request = refund_request(state, 1000)
        refund = await localstripe_gateway.refund(request)
        assert await localstripe_gateway.refund(request) == refund
        assert await localstripe_gateway.list_refunds(state.intent_id) == [refund]

    async def test_listing_follows_every_page(
        self,
        localstripe_gateway: StripeGateway,
        localstripe_client: stripe.StripeClient,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
        state = await paid_intent(localstripe_gateway, localstripe_client)
        made = [await localstripe_gateway.refund(refund_request(state, 100)) for _ in range(5)]
        listed = await localstripe_gateway.list_refunds(state.intent_id)
        assert sorted(r.refund_id for r in listed) == sorted(r.refund_id for r in made)


def about(events: list[GatewayEvent], intent_id: str) -> dict[str, PaymentEvent]:
    return {
        e.type: e
        for e in events
        if isinstance(e, PaymentEvent) and e.payment.intent_id == intent_id
    }


class TestEvents:
    async def test_events_since_a_time_are_translated(
        self,
        localstripe_gateway: StripeGateway,
        localstripe_client: stripe.StripeClient,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(client_module, "PAGE_SIZE", 2)
        since = datetime.now(UTC) - timedelta(seconds=1)
        state = await paid_intent(localstripe_gateway, localstripe_client)
        refund = await localstripe_gateway.refund(refund_request(state, 400))
        listed = await localstripe_gateway.list_events(since)
        events = about(listed, state.intent_id)
        succeeded = events["payment_intent.succeeded"]
        assert isinstance(succeeded, PaymentSucceeded)
        assert (succeeded.amount, succeeded.currency) == (1000, "usd")
        assert succeeded.payment.metadata["payment_id"] == state.metadata["payment_id"]
        charge_refunded, refund_created = events["charge.refunded"], events["refund.created"]
        assert isinstance(charge_refunded, RefundsReported)
        assert charge_refunded.amount_refunded == 400
        assert isinstance(refund_created, RefundsReported) and refund_created.refunds is not None
        assert [r.refund_id for r in refund_created.refunds] == [refund.refund_id]
        whole_second = since.replace(microsecond=0)
        assert all(e.created_at is not None and e.created_at >= whole_second for e in listed)
        assert listed == sorted(listed, key=lambda e: e.created_at or whole_second)

    async def test_a_declined_payment_is_listed_with_its_reason(
        self, localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
    ) -> None:
        since = datetime.now(UTC) - timedelta(seconds=1)
        created = await localstripe_gateway.create_payment_intent(intent_request())
        with pytest.raises(stripe.CardError):
            await pay(localstripe_client, created.intent_id, DECLINED_ON_CHARGE)
        failed = about(await localstripe_gateway.list_events(since), created.intent_id)
        payment_failed = failed["payment_intent.payment_failed"]
        assert isinstance(payment_failed, PaymentFailed)
        assert payment_failed.reason == "card_declined"

    async def test_nothing_is_listed_after_the_last_event(
        self, localstripe_gateway: StripeGateway
    ) -> None:
        assert await localstripe_gateway.list_events(datetime.now(UTC) + timedelta(hours=1)) == []


async def test_an_unreachable_gateway_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = StripeGateway(
        LOCALSTRIPE_SECRET_KEY, [WEBHOOK_SECRET], f"http://127.0.0.1:{closed_port}"
    )
    try:
        with pytest.raises(GatewayUnavailable) as raised:
            await gateway.create_payment_intent(intent_request())
    finally:
        await gateway.aclose()
    assert LOCALSTRIPE_SECRET_KEY not in str(raised.value)


def is_event(event_type: str, **fields: str) -> Any:
    def match(event: dict[str, Any]) -> bool:
        obj = event["data"]["object"]
        return event["type"] == event_type and all(obj.get(k) == v for k, v in fields.items())

    return match


class TestWebhooks:
    """localstripe signs and posts events; the raw bodies must pass our verification."""

    async def test_a_succeeded_payment_arrives_signed_and_translates(
        self,
        localstripe_gateway: StripeGateway,
        localstripe_client: stripe.StripeClient,
        localstripe_webhook: RegisterWebhook,
        webhook_receiver: WebhookReceiver,
    ) -> None:
        await localstripe_webhook(webhook_receiver.url, WEBHOOK_SECRET, None)
        state = await paid_intent(localstripe_gateway, localstripe_client, 1200)
        delivery = await webhook_receiver.wait_for(
            is_event("payment_intent.succeeded", id=state.intent_id)
        )
        event = localstripe_gateway.parse_event(delivery.body, delivery.signature)
        assert isinstance(event, PaymentSucceeded)
        assert (event.payment.intent_id, event.amount) == (state.intent_id, 1200)
        assert event.payment.metadata == state.metadata
        rotated = StripeGateway(LOCALSTRIPE_SECRET_KEY, ["whsec_next", WEBHOOK_SECRET])
        assert rotated.parse_event(delivery.body, delivery.signature).event_id == event.event_id
        await rotated.aclose()
        stranger = StripeGateway(LOCALSTRIPE_SECRET_KEY, ["whsec_someone_else"])
        with pytest.raises(InvalidSignature):
            stranger.parse_event(delivery.body, delivery.signature)
        await stranger.aclose()

    async def test_a_refund_arrives_as_refund_events(
        self,
        localstripe_gateway: StripeGateway,
        localstripe_client: stripe.StripeClient,
        localstripe_webhook: RegisterWebhook,
        webhook_receiver: WebhookReceiver,
    ) -> None:
        await localstripe_webhook(
            webhook_receiver.url, WEBHOOK_SECRET, ["charge.refunded", "refund.created"]
        )
        state = await paid_intent(localstripe_gateway, localstripe_client)
        refund = await localstripe_gateway.refund(refund_request(state, 250))
        charge = await webhook_receiver.wait_for(
            is_event("charge.refunded", payment_intent=state.intent_id)
        )
        created = await webhook_receiver.wait_for(is_event("refund.created", id=refund.refund_id))
        charge_event = localstripe_gateway.parse_event(charge.body, charge.signature)
        refund_event = localstripe_gateway.parse_event(created.body, created.signature)
        assert isinstance(charge_event, RefundsReported)
        assert isinstance(refund_event, RefundsReported)
        assert charge_event.payment.intent_id == refund_event.payment.intent_id == state.intent_id
        assert charge_event.amount_refunded == 250
        assert charge_event.refunds == refund_event.refunds == (refund,)
        assert {d.event["type"] for d in webhook_receiver.deliveries} <= {
            "charge.refunded",
            "refund.created",
        }
