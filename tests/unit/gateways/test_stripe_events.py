"""Webhook verification and translation of Stripe events into our event classes.

Signatures are computed here with plain HMAC, as Stripe documents them, so the tests do
not trust the SDK helper that the code under test uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stripe.events import parse_event, translate_event
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import (
    CheckoutCompleted,
    CheckoutExpired,
    PaymentCanceled,
    PaymentFailed,
    PaymentRef,
    PaymentSucceeded,
    RefundsReported,
    Unhandled,
)
from application.webhooks.gateway import InvalidSignature, MalformedEvent

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
CREATED = 1_767_225_600
PAYMENT_META = {"payment_id": "pay_1", "user_id": "user_1", "credits": "1000"}


def _signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, *secrets: str, timestamp: int | None = None) -> str:
    """``t=...,v1=...[,v1=...]``: one ``v1`` per secret, as Stripe sends during rotation."""
    at = timestamp or int(time.time())
    return ",".join([f"t={at}", *(f"v1={_signature(payload, s, at)}" for s in secrets)])


def event(event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "evt_1",
        "object": "event",
        "type": event_type,
        "created": CREATED,
        "livemode": False,
        "data": {"object": obj},
        **extra,
    }


def body(raw: Any) -> bytes:
    return json.dumps(raw).encode()


INTENT_SUCCEEDED = body(
    event(
        "payment_intent.succeeded",
        {
            "id": "pi_1",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 1000,
            "amount_received": 1000,
            "currency": "usd",
            "metadata": PAYMENT_META,
        },
    )
)


class TestSignature:
    def test_a_valid_signature_is_accepted(self) -> None:
        parsed = parse_event(INTENT_SUCCEEDED, header(INTENT_SUCCEEDED, SECRET), [SECRET])
        assert parsed.event_id == "evt_1"
        assert isinstance(parsed, PaymentSucceeded)

    def test_the_second_v1_value_of_a_rotating_header_is_enough(self) -> None:
        signature = header(INTENT_SUCCEEDED, OLD_SECRET, SECRET)
        assert parse_event(INTENT_SUCCEEDED, signature, [SECRET]).event_id == "evt_1"

    def test_the_second_configured_secret_is_tried(self) -> None:
        signature = header(INTENT_SUCCEEDED, SECRET)
        assert parse_event(INTENT_SUCCEEDED, signature, [OLD_SECRET, SECRET]).event_id == "evt_1"

    @pytest.mark.parametrize("signature", [None, ""])
    def test_a_missing_header_is_rejected(self, signature: str | None) -> None:
        with pytest.raises(InvalidSignature):
            parse_event(INTENT_SUCCEEDED, signature, [SECRET])

    def test_a_signature_by_another_secret_is_rejected(self) -> None:
        with pytest.raises(InvalidSignature):
            parse_event(INTENT_SUCCEEDED, header(INTENT_SUCCEEDED, "whsec_other"), [SECRET])

    def test_a_timestamp_older_than_five_minutes_is_rejected(self) -> None:
        stale = int(time.time()) - 301
        with pytest.raises(InvalidSignature):
            parse_event(
                INTENT_SUCCEEDED, header(INTENT_SUCCEEDED, SECRET, timestamp=stale), [SECRET]
            )

    def test_a_timestamp_within_five_minutes_is_accepted(self) -> None:
        recent = int(time.time()) - 290
        signature = header(INTENT_SUCCEEDED, SECRET, timestamp=recent)
        assert parse_event(INTENT_SUCCEEDED, signature, [SECRET]).event_id == "evt_1"

    def test_a_tampered_body_is_rejected(self) -> None:
        signature = header(INTENT_SUCCEEDED, SECRET)
        tampered = INTENT_SUCCEEDED.replace(b'"amount_received": 1000', b'"amount_received": 9000')
        assert tampered != INTENT_SUCCEEDED
        with pytest.raises(InvalidSignature):
            parse_event(tampered, signature, [SECRET])

    @pytest.mark.parametrize("signature", ["garbage", "t=notanumber,v1=abc", "v1=abc"])
    def test_a_malformed_header_is_rejected(self, signature: str) -> None:
        with pytest.raises(InvalidSignature):
            parse_event(INTENT_SUCCEEDED, signature, [SECRET])

    def test_a_body_that_is_not_utf8_is_rejected(self) -> None:
        payload = b"\xff\xfe{}"
        with pytest.raises(InvalidSignature):
            parse_event(payload, header(payload, SECRET), [SECRET])

    @pytest.mark.parametrize(
        "payload",
        [
            b"{not json",
            b"[1, 2]",
            body({"id": "evt_1", "type": "x"}),
            body({"data": {"object": {}}}),
        ],
    )
    def test_a_signed_body_that_is_not_an_event_is_malformed(self, payload: bytes) -> None:
        with pytest.raises(MalformedEvent):
            parse_event(payload, header(payload, SECRET), [SECRET])


def checkout(payment_status: str = "paid", payment_intent: Any = "pi_1") -> dict[str, Any]:
    return {
        "id": "cs_1",
        "object": "checkout.session",
        "status": "complete",
        "payment_status": payment_status,
        "amount_total": 1000,
        "currency": "usd",
        "payment_intent": payment_intent,
        "metadata": PAYMENT_META,
    }


class TestCheckoutEvents:
    def test_completed_and_paid(self) -> None:
        parsed = translate_event(event("checkout.session.completed", checkout()))
        assert isinstance(parsed, CheckoutCompleted)
        assert parsed.payment == PaymentRef("cs_1", "pi_1", PAYMENT_META)
        assert (parsed.amount, parsed.currency, parsed.paid) == (1000, "usd", True)
        assert parsed.created_at == datetime.fromtimestamp(CREATED, UTC)
        assert parsed.livemode is False

    def test_completed_with_a_delayed_payment_is_not_paid(self) -> None:
        parsed = translate_event(event("checkout.session.completed", checkout("unpaid")))
        assert isinstance(parsed, CheckoutCompleted)
        assert parsed.paid is False

    def test_async_payment_succeeded(self) -> None:
        parsed = translate_event(event("checkout.session.async_payment_succeeded", checkout()))
        assert isinstance(parsed, PaymentSucceeded)
        assert parsed.payment == PaymentRef("cs_1", "pi_1", PAYMENT_META)
        assert (parsed.amount, parsed.currency) == (1000, "usd")

    def test_async_payment_failed_carries_a_reason(self) -> None:
        obj = checkout("unpaid")
        parsed = translate_event(event("checkout.session.async_payment_failed", obj))
        assert isinstance(parsed, PaymentFailed)
        assert (parsed.payment.session_id, parsed.reason) == ("cs_1", "async_payment_failed")

    def test_expired(self) -> None:
        obj = {**checkout("unpaid", None), "status": "expired"}
        parsed = translate_event(event("checkout.session.expired", obj))
        assert isinstance(parsed, CheckoutExpired)
        assert parsed.payment == PaymentRef("cs_1", None, PAYMENT_META)

    def test_an_expanded_payment_intent_is_reduced_to_its_id(self) -> None:
        obj = checkout(payment_intent={"id": "pi_9", "object": "payment_intent"})
        parsed = translate_event(event("checkout.session.completed", obj))
        assert isinstance(parsed, CheckoutCompleted) and parsed.payment.intent_id == "pi_9"


def intent(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "status": status,
        "amount": 1000,
        "amount_received": 1000 if status == "succeeded" else 0,
        "currency": "usd",
        "metadata": {"payment_id": "pay_1", "user_id": "user_1"},
        **fields,
    }


class TestPaymentIntentEvents:
    def test_succeeded_reports_the_amount_received(self) -> None:
        parsed = translate_event(event("payment_intent.succeeded", intent("succeeded")))
        assert isinstance(parsed, PaymentSucceeded)
        assert (parsed.amount, parsed.currency) == (1000, "usd")
        assert parsed.payment == PaymentRef(
            None, "pi_1", {"payment_id": "pay_1", "user_id": "user_1"}
        )

    @pytest.mark.parametrize(
        ("error", "reason"),
        [
            ({"code": "card_declined", "decline_code": "insufficient_funds"}, "insufficient_funds"),
            ({"code": "expired_card"}, "expired_card"),
            ({"message": "Something went wrong"}, "payment_failed"),
        ],
    )
    def test_failed_reports_the_most_specific_reason(
        self, error: dict[str, str], reason: str
    ) -> None:
        obj = intent("requires_payment_method", last_payment_error=error)
        parsed = translate_event(event("payment_intent.payment_failed", obj))
        assert isinstance(parsed, PaymentFailed)
        assert (parsed.payment.intent_id, parsed.reason) == ("pi_1", reason)

    @pytest.mark.parametrize(
        ("cancellation_reason", "reason"), [("abandoned", "abandoned"), (None, "canceled")]
    )
    def test_canceled_reports_why(self, cancellation_reason: str | None, reason: str) -> None:
        obj = intent("canceled", cancellation_reason=cancellation_reason)
        parsed = translate_event(event("payment_intent.canceled", obj))
        assert isinstance(parsed, PaymentCanceled)
        assert (parsed.payment.intent_id, parsed.reason) == ("pi_1", reason)


def refund(refund_id: str, amount: int, status: str = "succeeded") -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "usd",
        "payment_intent": "pi_1",
        "charge": "ch_1",
        "status": status,
    }


def charge(
    refunds: Any, amount_refunded: int = 700, payment_intent: Any = "pi_1"
) -> dict[str, Any]:
    obj = {
        "id": "ch_1",
        "object": "charge",
        "amount": 1000,
        "amount_refunded": amount_refunded,
        "currency": "usd",
        "payment_intent": payment_intent,
        "refunded": False,
    }
    return obj if refunds is None else {**obj, "refunds": refunds}


class TestRefundEvents:
    def test_charge_refunded_lists_every_refund_and_the_cumulative_amount(self) -> None:
        refunds = {
            "object": "list",
            "data": [refund("re_2", 400), refund("re_1", 300)],
            "has_more": False,
        }
        parsed = translate_event(event("charge.refunded", charge(refunds)))
        assert isinstance(parsed, RefundsReported)
        assert (parsed.payment.intent_id, parsed.currency, parsed.amount_refunded) == (
            "pi_1",
            "usd",
            700,
        )
        assert parsed.refunds == (
            GatewayRefund("re_2", "pi_1", 400, "usd", RefundStatus.SUCCEEDED),
            GatewayRefund("re_1", "pi_1", 300, "usd", RefundStatus.SUCCEEDED),
        )

    @pytest.mark.parametrize(
        "refunds",
        [None, {"object": "list", "data": [refund("re_2", 400)], "has_more": True}],
        ids=["no list", "partial page"],
    )
    def test_charge_refunded_without_the_full_list_leaves_refunds_to_be_listed(
        self, refunds: Any
    ) -> None:
        parsed = translate_event(event("charge.refunded", charge(refunds)))
        assert isinstance(parsed, RefundsReported)
        assert parsed.refunds is None
        assert parsed.amount_refunded == 700

    def test_charge_with_an_expanded_payment_intent(self) -> None:
        obj = charge(None, payment_intent={"id": "pi_7", "object": "payment_intent"})
        parsed = translate_event(event("charge.refunded", obj))
        assert isinstance(parsed, RefundsReported) and parsed.payment.intent_id == "pi_7"

    @pytest.mark.parametrize(
        "event_type", ["refund.created", "refund.updated", "charge.refund.updated"]
    )
    def test_a_refund_event_names_its_refund(self, event_type: str) -> None:
        parsed = translate_event(event(event_type, refund("re_1", 300, "pending")))
        assert isinstance(parsed, RefundsReported)
        assert (parsed.payment.intent_id, parsed.currency) == ("pi_1", "usd")
        assert parsed.refunds == (GatewayRefund("re_1", "pi_1", 300, "usd", RefundStatus.PENDING),)

    def test_a_refund_status_not_known_here_reverses_nothing(self) -> None:
        parsed = translate_event(event("refund.created", refund("re_1", 300, "reversed")))
        assert isinstance(parsed, RefundsReported) and parsed.refunds is not None
        assert parsed.refunds[0].status is RefundStatus.REQUIRES_ACTION

    def test_a_refund_without_an_amount_is_malformed(self) -> None:
        obj = {k: v for k, v in refund("re_1", 300).items() if k != "amount"}
        with pytest.raises(MalformedEvent):
            translate_event(event("refund.created", obj))


class TestOtherEvents:
    @pytest.mark.parametrize(
        ("event_type", "obj"),
        [
            ("customer.created", {"id": "cus_1", "object": "customer"}),
            (
                "invoice.finalized",
                {"id": "in_1", "object": "invoice", "metadata": {"app": "other"}},
            ),
            ("payment_intent.created", intent("requires_payment_method")),
        ],
    )
    def test_types_outside_the_table_are_unhandled(
        self, event_type: str, obj: dict[str, Any]
    ) -> None:
        parsed = translate_event(event(event_type, obj))
        assert type(parsed) is Unhandled
        assert (parsed.event_id, parsed.type) == ("evt_1", event_type)

    def test_metadata_values_are_strings_and_nulls_are_dropped(self) -> None:
        obj = intent("succeeded", metadata={"payment_id": "pay_1", "credits": 1000, "x": None})
        parsed = translate_event(event("payment_intent.succeeded", obj))
        assert isinstance(parsed, PaymentSucceeded)
        assert parsed.payment.metadata == {"payment_id": "pay_1", "credits": "1000"}

    def test_livemode_is_carried(self) -> None:
        parsed = translate_event(
            event("payment_intent.succeeded", intent("succeeded"), livemode=True)
        )
        assert parsed.livemode is True
