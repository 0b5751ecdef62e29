"""Signed but unusual webhooks over HTTP on PostgreSQL: 200, recorded, nothing applied.

An event id longer than the processed-events table stores, a type longer than its
column, a NUL byte, or a refund of a PaymentIntent the account does not know can never
be applied: a 5xx or 404 would have Stripe redeliver it for days. Each is answered 200
with an ``ignored_*`` outcome, and a redelivery is a duplicate.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    Api,
    Database,
    PaymentRef,
    charge_refunded,
    checkout_completed,
    event,
)

pytestmark = pytest.mark.postgres


async def delivered_twice(api: Api, evt: dict[str, Any]) -> list[str]:
    return [await api.deliver(evt), await api.deliver(evt)]


async def test_an_event_id_over_255_characters_is_ignored_once(api: Api, pg_db: Database) -> None:
    user, p = await api.new_checkout()
    evt = checkout_completed(p) | {"id": "evt_" + "x" * 300}

    assert await delivered_twice(api, evt) == ["ignored_unusable", "duplicate"]

    assert await api.credits(user) == 0
    assert list((await pg_db.outcomes()).values()) == ["ignored_unusable"]


async def test_a_type_over_100_characters_is_ignored_once(api: Api, pg_db: Database) -> None:
    user, p = await api.new_checkout()
    evt = checkout_completed(p) | {"type": "checkout.session." + "x" * 150}

    assert await delivered_twice(api, evt) == ["ignored_unusable", "duplicate"]

    assert await api.credits(user) == 0
    assert (await pg_db.outcomes())[evt["id"]] == "ignored_unusable"


@pytest.mark.parametrize("field", ["id", "type"])
async def test_a_nul_byte_in_the_id_or_type_is_ignored_once(
    api: Api, pg_db: Database, field: str
) -> None:
    user, p = await api.new_checkout()
    evt = checkout_completed(p)
    evt[field] = evt[field][:8] + "\x00" + evt[field][8:]

    assert await delivered_twice(api, evt) == ["ignored_unusable", "duplicate"]

    assert await api.credits(user) == 0


async def test_a_refund_id_over_255_characters_changes_nothing(api: Api) -> None:
    user, p = await api.new_checkout()
    await api.pay(p.session_id or "")
    p = await api.payment_ref(user, p.payment_id)

    evt = charge_refunded(p, [("re_" + "x" * 300, 400)])

    assert await delivered_twice(api, evt) == ["ignored_unusable", "duplicate"]
    assert await api.credits(user) == 1000


async def test_a_refund_of_a_payment_intent_the_account_does_not_know_is_not_ours(
    api: Api,
) -> None:
    """The event leaves its refunds to be listed, and the gateway knows no such intent."""
    stranger = PaymentRef("pay_elsewhere", "user_elsewhere", 1000, "usd", None, "pi_not_known")
    charge = charge_refunded(stranger, [("re_elsewhere", 1000)])["data"]["object"]
    charge |= {"refunds": {"object": "list", "data": [], "has_more": True}, "metadata": {}}
    refund = {"id": "re_elsewhere", "object": "refund", "amount": 1000, "currency": "usd"}
    refund |= {"payment_intent": "pi_not_known", "status": "succeeded"}

    for evt in (event("charge.refunded", charge), event("refund.created", refund)):
        assert await delivered_twice(api, evt) == ["ignored_unknown_object", "duplicate"]


async def test_an_ordinary_event_after_the_unusual_ones_is_still_applied(api: Api) -> None:
    user, p = await api.new_checkout()
    await api.deliver(checkout_completed(p) | {"id": "evt_" + "y" * 300})

    assert await api.deliver(checkout_completed(p)) == "granted"
    assert await api.credits(user) == 1000
