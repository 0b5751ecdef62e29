"""A setup-mode ``checkout.session.completed``, as Stripe sends it, becomes ``SetupCompleted``
(never a payment's ``CheckoutCompleted``)."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.stripe.events import decode_event
from application.webhooks.events import SetupCompleted

RECORDED: dict[str, Any] = {
    "id": "evt_1QsetupCompletedA1b2C3",
    "object": "event",
    "api_version": "2026-10-28.endive",
    "created": 1764550800,
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": None, "idempotency_key": None},
    "type": "checkout.session.completed",
    "data": {
        "object": {
            "id": "cs_test_c1SetupA1b2C3d4",
            "object": "checkout.session",
            "mode": "setup",
            "status": "complete",
            "payment_status": "no_payment_required",
            "amount_total": None,
            "currency": "usd",
            "customer": "cus_RsetupCustomer1",
            "payment_intent": None,
            "setup_intent": "seti_1QsetupIntent9",
            "subscription": None,
            "metadata": {"user_id": "usr_1", "purpose": "auto_top_up"},
            "success_url": "https://app.example/?card_setup=succeeded",
            "cancel_url": "https://app.example/?card_setup=canceled",
            "url": None,
        }
    },
}


def translated(raw: dict[str, Any]) -> Any:
    return decode_event(msgspec.json.encode(raw))


def test_a_completed_setup_session_is_a_setup() -> None:
    assert translated(RECORDED) == SetupCompleted(
        event_id="evt_1QsetupCompletedA1b2C3",
        type="checkout.session.completed",
        created_at=translated(RECORDED).created_at,
        session_id="cs_test_c1SetupA1b2C3d4",
        customer_id="cus_RsetupCustomer1",
        setup_intent_id="seti_1QsetupIntent9",
        ours=True,
    )
    assert translated(RECORDED).created_at.timestamp() == 1764550800


def test_expanded_objects_are_reduced_to_their_ids() -> None:
    session = RECORDED["data"]["object"]
    raw = {
        **RECORDED,
        "data": {
            "object": {
                **session,
                "customer": {"id": "cus_RsetupCustomer1", "object": "customer"},
                "setup_intent": {"id": "seti_1QsetupIntent9", "object": "setup_intent"},
            }
        },
    }
    event = translated(raw)
    assert (event.customer_id, event.setup_intent_id) == (
        "cus_RsetupCustomer1",
        "seti_1QsetupIntent9",
    )


def test_a_setup_session_without_our_metadata_is_not_ours() -> None:
    raw = {**RECORDED, "data": {"object": {**RECORDED["data"]["object"], "metadata": {}}}}
    event = translated(raw)
    assert isinstance(event, SetupCompleted)
    assert not event.ours
