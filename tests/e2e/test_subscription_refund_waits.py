"""On PostgreSQL, through the webhook: a refund of a subscription invoice delivered
before the invoice's ``invoice.paid`` waits (503 ``event_not_ready``, nothing recorded)
and, redelivered after it, reverses the invoice's credits in proportion."""

from __future__ import annotations

import pytest

from tests.e2e.subscription_api import (  # noqa: F401 (fixtures)
    Subs,
    paid_invoices,
    subs_app_fixture,
    subs_fixture,
)

pytestmark = pytest.mark.postgres


async def test_a_refund_overtaking_its_invoice_paid_waits_then_reverses(subs: Subs) -> None:
    user = await subs.api.create_user()
    opened = (await subs.checkout(user, "plus")).json()
    paid = await subs.api.pay(opened["session_id"], deliver="never")
    [invoice] = paid_invoices(paid)
    for event in paid["events"]:
        if event["type"] != "invoice.paid":
            assert await subs.deliver(event) == 200
    refund = await subs.sandbox(
        f"invoices/{invoice['id']}/refund", {"amount": 500, "deliver": "never"}
    )
    for event in refund["events"]:
        response = await subs.api.post_event(event)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "event_not_ready"
    assert await subs.api.credits(user) == 0
    [invoice_paid] = [e for e in paid["events"] if e["type"] == "invoice.paid"]
    assert await subs.deliver(invoice_paid) == 200
    assert await subs.api.credits(user) == 2500
    for event in refund["events"]:  # Stripe redelivers
        assert await subs.deliver(event) == 200
    assert await subs.api.credits(user) == 2500 - 625
    kinds = [e["kind"] for e in await subs.api.transactions(user)]
    assert kinds.count("refund_reversal") == 1
