"""Signed events that can never be applied are recorded as ignored, not failed.

An id or type longer than any the gateway sends, text no database can store (a NUL),
or a refund of a PaymentIntent the gateway account does not know: answering 5xx or
404 would make Stripe redeliver it for days. Each is recorded with an ``ignored_*``
outcome (under a key derived from its id when the id cannot be stored, so that a
redelivery is still a duplicate) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from adapters.stripe.events import translate_event
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent
from application.webhooks.handling import EventOutcome
from domain.payment import Payment
from tests.unit.conftest import (
    T0,
    App,
    charge_object,
    intent_object,
    refund_object,
    session_object,
    stripe_event,
)

STORED_ID_LIMIT = 255
STORED_TYPE_LIMIT = 100


def raw_event(event_id: str, event_type: str, obj: dict[str, Any]) -> GatewayEvent:
    return translate_event(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(T0.timestamp()),
            "livemode": False,
            "data": {"object": obj},
        }
    )


async def paid(app: App, amount: int = 1000) -> Payment:
    payment = await app.open_intent(amount)
    await app.handle_all(await app.pay(payment))
    return app.payment(payment.id)


def recorded(app: App) -> dict[str, tuple[str, str | None]]:
    return {key: (e.type, e.outcome) for key, e in app.store.state.events.items()}


async def delivered_twice(app: App, event: GatewayEvent) -> list[EventOutcome]:
    return [await app.handle(event), await app.handle(event)]


async def test_an_event_id_too_long_to_store_is_ignored_once_under_a_storable_key(
    app: App,
) -> None:
    payment = await app.open_checkout()
    event = raw_event("evt_" + "x" * 300, "checkout.session.completed", session_object(payment))

    assert await delivered_twice(app, event) == [EventOutcome.UNUSABLE, EventOutcome.DUPLICATE]

    assert app.balance(payment.user_id) == 0
    [(key, (event_type, outcome))] = recorded(app).items()
    assert len(key) <= STORED_ID_LIMIT
    assert (event_type, outcome) == ("checkout.session.completed", "ignored_unusable")


async def test_two_long_ids_sharing_a_prefix_are_two_events(app: App) -> None:
    payment = await app.open_checkout()
    first, second = ("evt_" + "x" * 300 + tail for tail in "ab")
    for event_id in (first, second):
        event = raw_event(event_id, "checkout.session.expired", session_object(payment))
        assert await app.handle(event) == EventOutcome.UNUSABLE
    assert len(recorded(app)) == 2


async def test_a_type_too_long_to_store_is_ignored_and_recorded_shortened(app: App) -> None:
    payment = await app.open_intent()
    event = raw_event("evt_long_type", "payment_intent." + "x" * 150, intent_object(payment))

    assert await delivered_twice(app, event) == [EventOutcome.UNUSABLE, EventOutcome.DUPLICATE]

    event_type, outcome = recorded(app)["evt_long_type"]
    assert len(event_type) <= STORED_TYPE_LIMIT and event_type.startswith("payment_intent.x")
    assert outcome == "ignored_unusable"


async def test_a_nul_in_the_event_id_or_type_is_ignored(app: App) -> None:
    payment = await app.open_intent()
    in_id = raw_event("evt_\x00nul", "payment_intent.succeeded", intent_object(payment))
    in_type = raw_event("evt_nul_type", "payment_intent.succ\x00eeded", intent_object(payment))

    assert await delivered_twice(app, in_id) == [EventOutcome.UNUSABLE, EventOutcome.DUPLICATE]
    assert await delivered_twice(app, in_type) == [EventOutcome.UNUSABLE, EventOutcome.DUPLICATE]

    assert app.balance(payment.user_id) == 0
    assert all("\x00" not in key + t for key, (t, _) in recorded(app).items())


async def test_a_refund_id_too_long_to_store_changes_nothing(app: App) -> None:
    payment = await paid(app)
    refund = GatewayRefund(
        "re_" + "x" * 300, payment.stripe_payment_intent_id, 400, "usd", RefundStatus.SUCCEEDED
    )
    event = stripe_event("refund.created", refund_object(refund))

    assert await delivered_twice(app, event) == [EventOutcome.UNUSABLE, EventOutcome.DUPLICATE]

    assert app.balance(payment.user_id) == 1000
    assert app.payment(payment.id).amount_refunded == 0


async def test_a_nul_in_metadata_of_another_app_does_not_stop_our_payment(app: App) -> None:
    payment = await app.open_intent()
    obj = intent_object(payment)
    obj["metadata"] = {**obj["metadata"], "their_note": "a\x00b"}

    assert await app.handle(stripe_event("payment_intent.succeeded", obj)) == EventOutcome.GRANTED

    assert app.balance(payment.user_id) == 1000


async def test_refunds_of_a_payment_intent_the_gateway_does_not_know_are_not_ours(
    app: App,
) -> None:
    """The refunds must be listed at the gateway, which knows no such PaymentIntent."""
    payment = await paid(app)
    charge = charge_object(payment, None, payment_intent="pi_unknown_to_the_account")

    outcomes = await delivered_twice(app, stripe_event("charge.refunded", charge))

    assert outcomes == [EventOutcome.NOT_OURS, EventOutcome.DUPLICATE]
    assert app.balance(payment.user_id) == 1000
