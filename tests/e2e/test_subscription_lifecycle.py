"""A subscription's whole life on PostgreSQL, through the HTTP API and the sandbox.

Subscribe, renew three periods (with and without rollover), upgrade, downgrade,
cancel at period end, resume, a failed renewal and its recovery, and a refund of an
invoice; the first invoice is granted once whatever else arrives.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from adapters.clock import FixedClock
from application.batch import NoControl
from application.credits.expire_credits import expire_credits
from domain.ledger import EntryKind, Posting
from tests.e2e.subscription_api import (  # noqa: F401 (fixtures)
    Subs,
    paid_invoices,
    subs_app_fixture,
    subs_fixture,
    when,
)

pytestmark = pytest.mark.postgres

PRICES = {"price_basic": (1000, 1000), "price_plus": (2000, 2500), "price_pro": (4000, 6000)}


async def spend(subs: Subs, user_id: str, credits: int, key: str) -> None:
    """A usage debit, as the product's API gateway would post it."""
    async with subs.uow_factory()() as uow:
        posting = Posting(user_id, -credits, EntryKind.USAGE_DEBIT, "request", key, key)
        await uow.ledger.post(posting, FixedClock().now())
        await uow.commit()


async def test_subscribe_then_renew_three_periods_without_rollover(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "basic")
    assert sub["status"] == "active" and sub["plan_id"] == "basic"
    assert sub["credits_granted_this_period"] == 1000 and sub["credits_rolled_over"] == 0
    ends = [when(sub["current_period_end"])]
    for _ in range(3):
        outcome = await subs.renew(sub["id"])
        assert outcome["status"] == "succeeded"
        sub = await subs.subscription(user)
        assert when(sub["current_period_start"]) == ends[-1]
        ends.append(when(sub["current_period_end"]))
    grants = await subs.grants(user)
    assert sorted(when(g["expires_at"]) for g in grants) == ends
    assert [g["credits"] for g in grants] == [1000] * 4
    assert await subs.api.credits(user) == 4000  # nothing rolls, nothing expired yet
    # The clock reaches the start of the fourth period: the first three expire unspent.
    report = await expire_credits(
        uow_factory=subs.uow_factory(),
        clock=FixedClock(ends[2]),
        batch_size=100,
        control=NoControl(),
    )
    assert report.counts["lots_expired"] == 3
    assert await subs.api.credits(user) == 1000


async def test_renewals_roll_unused_credits_over_up_to_the_cap(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "plus")
    await spend(subs, user.id, 2200, "req-1")  # 300 of the first period stay unused
    await subs.renew(sub["id"])
    sub = await subs.subscription(user)
    assert sub["credits_rolled_over"] == 300
    assert await subs.api.credits(user) == 300 + 2500
    for _ in range(2):  # nothing spent: the cap (500) limits what rolls
        await subs.renew(sub["id"])
        sub = await subs.subscription(user)
        assert sub["credits_rolled_over"] == 500
        assert await subs.api.credits(user) == 500 + 2500
    entries = await subs.api.transactions(user)
    rollovers = [e for e in entries if e["kind"] == "subscription_rollover"]
    assert sorted(e["credits"] for e in rollovers) == [300, 500, 500]
    assert all(e["expires_at"] is not None for e in rollovers)


async def test_an_upgrade_grants_the_rest_of_the_period_once_and_a_downgrade_waits(
    subs: Subs,
) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "basic")
    before = len(subs.api.sandbox.subscription_event_payloads())
    response = await subs.post(user, "change", {"plan_id": "pro"}, **{"Idempotency-Key": "up-1"})
    assert response.status_code == 200, response.text
    assert response.json()["plan_id"] == "pro"
    again = await subs.post(user, "change", {"plan_id": "pro"}, **{"Idempotency-Key": "up-1"})
    assert again.status_code == 200
    produced = subs.api.sandbox.subscription_event_payloads()[before:]
    invoices = [e["data"]["object"] for e in produced if e["type"] == "invoice.paid"]
    assert len(invoices) == 1 and invoices[0]["billing_reason"] == "subscription_update"
    expected = math.floor(
        sum(
            Fraction(
                PRICES[line["pricing"]["price_details"]["price"]][1] * line["amount"],
                PRICES[line["pricing"]["price_details"]["price"]][0],
            )
            for line in invoices[0]["lines"]["data"]
        )
    )
    assert 4990 <= expected <= 5000  # about (6000 - 1000) for the whole period left
    assert await subs.api.credits(user) == 1000 + expected
    sub = await subs.subscription(user)
    assert sub["credits_granted_this_period"] == 1000 + expected

    response = await subs.post(user, "change", {"plan_id": "basic"})
    assert response.status_code == 200 and response.json()["plan_id"] == "basic"
    assert await subs.api.credits(user) == 1000 + expected  # this period is kept
    renewal = await subs.renew(sub["id"])
    assert [i["amount_paid"] for i in paid_invoices(renewal)] == [1000]
    assert (await subs.subscription(user))["credits_granted_this_period"] == 1000


async def test_cancel_at_period_end_then_resume_then_end(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "basic")
    assert (await subs.checkout(user, "plus")).json()["error"]["code"] == "subscription_exists"
    canceled = await subs.post(user, "cancel", None)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    assert canceled.json()["status"] == "active"
    resumed = await subs.post(user, "resume")
    assert resumed.json()["cancel_at_period_end"] is False
    await subs.post(user, "cancel", {"at_period_end": True})
    outcome = await subs.renew(sub["id"])
    assert outcome["status"] == "canceled"
    ended = await subs.subscription(user)
    assert ended["status"] == "canceled"
    assert await subs.api.credits(user) == 1000  # the period's credits stay until its end
    assert (await subs.post(user, "resume")).status_code == 404
    again = await subs.subscribe(user, "plus")  # a new subscription may start
    assert again["id"] != sub["id"] and again["status"] == "active"
    assert await subs.api.credits(user) == 1000 + 2500


async def test_a_failed_renewal_is_past_due_and_its_later_payment_grants_once(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "basic")
    armed = await subs.sandbox(f"subscriptions/{sub['id']}/fail-next-renewal")
    assert armed["status"] == "next_renewal_fails"
    failed = await subs.renew(sub["id"])
    assert failed["status"] == "failed"
    assert [e["type"] for e in failed["events"]] == [
        "customer.subscription.updated",
        "invoice.payment_failed",
    ]
    assert (await subs.subscription(user))["status"] == "past_due"
    assert await subs.api.credits(user) == 1000
    recovered = await subs.sandbox(f"subscriptions/{sub['id']}/retry")
    assert recovered["status"] == "succeeded"
    assert (await subs.subscription(user))["status"] == "active"
    assert await subs.api.credits(user) == 2000
    for event in recovered["events"]:  # Stripe delivers again: nothing more is granted
        assert await subs.deliver(event) == 200
    assert await subs.api.credits(user) == 2000


async def test_a_refund_of_an_invoice_reverses_its_credits_in_proportion(subs: Subs) -> None:
    user = await subs.api.create_user()
    sub = await subs.subscribe(user, "plus")
    first = next(
        e["data"]["object"]
        for e in subs.api.sandbox.subscription_event_payloads()
        if e["type"] == "invoice.paid"
        and e["data"]["object"]["parent"]["subscription_details"]["subscription"] == sub["id"]
    )
    part = await subs.sandbox(f"invoices/{first['id']}/refund", {"amount": 500})
    assert part["status"] == "succeeded"
    assert await subs.api.credits(user) == 2500 - 625  # a quarter of $20 is a quarter of 2500
    await subs.sandbox(f"invoices/{first['id']}/refund")
    assert await subs.api.credits(user) == 0
    kinds = [e["kind"] for e in await subs.api.transactions(user)]
    assert kinds.count("refund_reversal") == 2


async def test_the_first_invoice_is_granted_once_whatever_arrives_and_in_what_order(
    subs: Subs,
) -> None:
    user = await subs.api.create_user()
    opened = (await subs.checkout(user, "plus")).json()
    paid = await subs.api.pay(opened["session_id"], deliver="never")
    types = [e["type"] for e in paid["events"]]
    assert types == ["customer.subscription.created", "invoice.paid", "checkout.session.completed"]
    for event in [*reversed(paid["events"]), *paid["events"]]:
        assert await subs.deliver(event) == 200
    grants = await subs.grants(user)
    assert [g["credits"] for g in grants] == [2500]
    assert await subs.api.credits(user) == 2500


async def test_plans_are_public_and_unknown_plans_are_refused(subs: Subs) -> None:
    response = await subs.http.get("/api/stripe/subscription-plans")
    assert response.status_code == 200
    assert [(p["id"], p["credits_per_period"]) for p in response.json()] == [
        ("basic", 1000),
        ("plus", 2500),
        ("pro", 6000),
    ]
    user = await subs.api.create_user()
    assert (await subs.checkout(user, "gold")).json()["error"]["code"] == "unknown_plan"
    none = await subs.http.get("/api/stripe/subscription", headers=user.headers)
    assert none.status_code == 404
