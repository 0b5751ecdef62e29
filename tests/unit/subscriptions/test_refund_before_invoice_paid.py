"""A refund of a subscription invoice that overtakes the invoice's ``invoice.paid``.

The refund names only a PaymentIntent; until ``invoice.paid`` is applied no invoice of
ours names that PaymentIntent. The gateway's invoice payment does, so the refund waits
(nothing recorded, redelivered later) instead of being recorded as not ours.
"""

from __future__ import annotations

import pytest

from application.webhooks.handling import EventNotReady, EventOutcome
from tests.unit.subscriptions.world import PLUS, World


async def test_a_refund_before_its_invoice_is_paid_waits_then_reverses() -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, PLUS)
    events = world.new_events()
    paid = [e for e in events if e.type == "invoice.paid"]
    others = [e for e in events if e.type != "invoice.paid"]
    await world.apply(others)
    [invoice] = [p["data"]["object"] for p in world.payloads() if p["type"] == "invoice.paid"]
    assert invoice["parent"]["subscription_details"]["subscription"] == subscription_id
    await world.gateway.refund_invoice(invoice["id"], 500, "never")
    refunded = world.new_events()
    assert [e.type for e in refunded] == ["charge.refunded", "refund.created"]
    for event in refunded:
        with pytest.raises(EventNotReady):
            await world.apply([event])
    assert {e.event_id for e in refunded}.isdisjoint(world.store.state.events)
    assert await world.apply(paid) == [EventOutcome.GRANTED]
    assert await world.apply(refunded) == [EventOutcome.UPDATED, EventOutcome.NO_CHANGE]
    assert await world.balance(user_id) == 2500 - 625


async def test_a_refund_of_another_apps_invoice_is_still_not_ours() -> None:
    world = World()
    user_id = await world.user()
    await world.subscribe(user_id, PLUS)
    world.new_events()
    [invoice] = [p["data"]["object"] for p in world.payloads() if p["type"] == "invoice.paid"]
    world.store.state.subscriptions.customers.clear()  # the customer is no longer ours
    await world.gateway.refund_invoice(invoice["id"], None, "never")
    assert await world.apply(world.new_events()) == [EventOutcome.NOT_OURS] * 2
