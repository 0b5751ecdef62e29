"""The webhook's rules over HTTP on PostgreSQL.

See docs/webhooks.md and docs/failure-modes.md #1-4, 11, 12.

Every event here is Stripe-shaped and signed like Stripe signs it, posted as raw
bytes to POST /api/stripe/webhook; effects are read back through the API (and, for
what the API does not show, the processed-events table).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.e2e.conftest import (
    ROTATED_WEBHOOK_SECRET,
    Api,
    Database,
    PaymentRef,
    User,
    async_payment_failed,
    async_payment_succeeded,
    charge_refunded,
    checkout_completed,
    checkout_expired,
    client_of,
    encode,
    event,
    intent_canceled,
    intent_failed,
    intent_succeeded,
    make_app,
    signature,
    unreachable_database_url,
)

pytestmark = pytest.mark.postgres

SIGNATURE_TOLERANCE_SECONDS = 300
ONE_MIB = 1024 * 1024


async def _state(api: Api, user: User, payment_id: str) -> dict[str, Any]:
    """What a user can see of one payment, without ids or times: the 'final state'."""
    payment = await api.payment(user, payment_id)
    entries = await api.transactions(user)
    return {
        "status": payment["status"],
        "failure_reason": payment["failure_reason"],
        "amount_refunded": payment["amount_refunded"],
        "credits_reversed": payment["credits_reversed"],
        "balance": await api.credits(user),
        "entries": sorted((e["kind"], e["credits"]) for e in entries),
    }


# ---- exactly once, under concurrency ----


async def test_twenty_concurrent_deliveries_of_two_event_types_grant_once_per_payment(
    served_api: Api, pg_db: Database
) -> None:
    api = served_api
    user = await api.create_user()
    payments = []
    for amount in (1000, 2500):
        created = await api.checkout(user, amount)
        payments.append(await api.payment_ref(user, created["payment_id"]))
    events = [make(p) for p in payments for make in (checkout_completed, intent_succeeded)]
    signed = [(encode(evt), evt["id"]) for evt in events for _ in range(5)]
    random.Random(20).shuffle(signed)

    responses = await asyncio.gather(
        *(api.post_webhook(body, signature(body)) for body, _ in signed)
    )

    assert [r.status_code for r in responses] == [200] * 20
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 16 + ["granted"] * 2 + ["no_change"] * 2
    assert await api.credits(user) == 3500
    assert sorted(e["credits"] for e in await api.transactions(user)) == [1000, 2500]
    recorded = await pg_db.outcomes()
    assert set(recorded) == {evt["id"] for evt in events}
    assert sorted(recorded.values()) == ["granted", "granted", "no_change", "no_change"]
    for p in payments:
        assert (await api.payment(user, p.payment_id))["status"] == "completed"


# ---- any order, any number of deliveries ----


async def _deliver_like_stripe(api: Api, events: Sequence[dict[str, Any]]) -> None:
    """Deliver in the given order; what is refused for now (5xx) is retried afterwards."""
    pending = list(events)
    for _ in range(len(events) + 1):
        retry = []
        for evt in pending:
            response = await api.post_event(evt)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                retry.append(evt)
        if not (pending := retry):
            return
    raise AssertionError(f"never accepted: {[evt['type'] for evt in pending]}")


PAID_AND_REFUNDED = {
    "status": "partially_refunded",
    "failure_reason": None,
    "amount_refunded": 300,
    "credits_reversed": 300,
    "balance": 700,
    "entries": [("purchase", 1000), ("refund_reversal", -300)],
}


EventOf = Callable[[PaymentRef], dict[str, Any]]


async def _in_every_order(
    api: Api, events_of: Sequence[EventOf]
) -> dict[tuple[int, ...], dict[str, Any]]:
    """The final state after each order of the events, then every one delivered again.

    Each order plays out on a payment of its own (concurrency has its own test above).
    """
    finals = {}
    for order in itertools.permutations(range(len(events_of))):
        user, p = await api.new_checkout(1000)
        events = [make(p) for make in events_of]
        await _deliver_like_stripe(api, [events[i] for i in order] + events)
        finals[order] = await _state(api, user, p.payment_id)
    return finals


def _partial_refund(p: PaymentRef) -> dict[str, Any]:
    return charge_refunded(p, [(f"re_{p.payment_id}", 300)])


def _unhandled(p: PaymentRef) -> dict[str, Any]:
    return event("payment_intent.requires_action", {"id": p.intent_id})


DECLINED_PAID_REFUNDED = (intent_failed, intent_succeeded, checkout_completed, _partial_refund)
DECLINED_ABANDONED = (intent_failed, checkout_expired, _unhandled)


async def test_a_declined_then_paid_then_refunded_checkout_ends_the_same_in_every_order(
    api: Api,
) -> None:
    """Card declined, another card pays (two events), a partial refund: 24 orders."""
    finals = await _in_every_order(api, DECLINED_PAID_REFUNDED)
    assert finals == dict.fromkeys(finals, PAID_AND_REFUNDED)


async def test_a_declined_then_abandoned_checkout_expires_in_every_order(
    api: Api,
) -> None:
    finals = (await _in_every_order(api, DECLINED_ABANDONED)).values()
    assert {(f["status"], f["balance"], tuple(f["entries"])) for f in finals} == {
        ("expired", 0, ())
    }


async def test_a_declined_then_abandoned_checkout_keeps_one_failure_reason(
    api: Api,
) -> None:
    finals = (await _in_every_order(api, DECLINED_ABANDONED)).values()
    assert {f["failure_reason"] for f in finals} == {"insufficient_funds"}


def _refund_reported(p: PaymentRef, status: str, event_type: str) -> dict[str, Any]:
    """Stripe reporting refund ``re_<payment id>`` of 400 cents with ``status``."""
    refund = {
        "id": f"re_{p.payment_id}",
        "object": "refund",
        "amount": 400,
        "currency": p.currency,
        "payment_intent": p.intent_id,
        "status": status,
    }
    return event(event_type, refund)


@pytest.mark.parametrize("failed_first", [False, True], ids=["pending_first", "failed_first"])
async def test_a_refund_that_fails_leaves_balance_and_payment_as_before_it_in_either_order(
    api: Api, failed_first: bool
) -> None:
    user, p = await api.new_checkout(1000)
    assert await api.deliver(intent_succeeded(p)) == "granted"
    before = await _state(api, user, p.payment_id)
    pending = _refund_reported(p, "pending", "refund.created")
    failed = _refund_reported(p, "failed", "charge.refund.updated")

    events = [failed, pending] if failed_first else [pending, failed]
    stale = _refund_reported(p, "pending", "refund.updated")  # a new event, old news
    outcomes = [await api.deliver(evt) for evt in [*events, *events, stale]]

    assert await _state(api, user, p.payment_id) == {
        **before,
        "entries": (
            [("purchase", 1000)]
            if failed_first
            else [("purchase", 1000), ("refund_restore", 400), ("refund_reversal", -400)]
        ),
    }
    assert (before["status"], before["balance"], before["amount_refunded"]) == (
        "completed",
        1000,
        0,
    )
    first = ["no_change", "no_change"] if failed_first else ["updated", "updated"]
    assert outcomes == [*first, "duplicate", "duplicate", "no_change"]


# ---- signatures and bodies ----


def _header_with_two_v1(body: bytes) -> str:
    """``t=..,v1=<another secret's>,v1=<ours>``, as during a rotation at Stripe."""
    timestamp, theirs = signature(body, "whsec_not_ours").split(",")
    ours = signature(body, timestamp=int(timestamp.removeprefix("t="))).split(",")[1]
    return ",".join([timestamp, theirs, ours])


BAD_SIGNATURES = {
    "wrong_secret": lambda body: signature(body, "whsec_somebody_else"),
    "missing": lambda body: None,
    "stale": lambda body: signature(
        body, timestamp=int(time.time()) - SIGNATURE_TOLERANCE_SECONDS - 5
    ),
    "garbage": lambda body: "not a stripe signature",
    "other_body": lambda body: signature(body + b" "),
    "no_timestamp": lambda body: signature(body).split(",", 1)[1],
}


@pytest.mark.parametrize("case", sorted(BAD_SIGNATURES))
async def test_a_bad_signature_is_refused_and_changes_nothing(
    api: Api, pg_db: Database, case: str
) -> None:
    user, p = await api.new_checkout(1000)
    evt = intent_succeeded(p)
    body = encode(evt)

    response = await api.post_webhook(body, BAD_SIGNATURES[case](body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert response.json()["error"]["message"]
    assert await api.credits(user) == 0
    assert (await api.payment(user, p.payment_id))["status"] == "pending"
    assert await pg_db.outcomes() == {}
    # Nothing was recorded: the genuine delivery of the same event still works.
    assert await api.deliver(evt) == "granted"


async def test_a_rotated_secret_is_accepted(api: Api) -> None:
    user, p = await api.new_checkout(1000)

    response = await api.post_event(intent_succeeded(p), secret=ROTATED_WEBHOOK_SECRET)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "granted"}
    assert await api.credits(user) == 1000


async def test_a_header_whose_second_v1_value_matches_is_accepted(api: Api) -> None:
    user, p = await api.new_checkout(1000)
    body = encode(intent_succeeded(p))

    response = await api.post_webhook(body, _header_with_two_v1(body))

    assert response.status_code == 200
    assert await api.credits(user) == 1000


@pytest.mark.parametrize(
    "body",
    [b'{"id": "evt_cut", "type": "payment_intent.succeeded", "data": {', b"[]", b'{"id": 7}'],
    ids=["truncated", "not_an_object", "not_an_event"],
)
async def test_a_signed_body_that_is_not_an_event_is_refused(
    api: Api, pg_db: Database, body: bytes
) -> None:
    response = await api.post_webhook(body, signature(body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_event"
    assert await pg_db.outcomes() == {}


async def test_a_body_over_one_mebibyte_is_refused(api: Api, pg_db: Database) -> None:
    user, p = await api.new_checkout(1000)
    evt = intent_succeeded(p)
    evt["data"]["object"]["description"] = "x" * ONE_MIB
    body = encode(evt)

    response = await api.post_webhook(body, signature(body))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert await pg_db.outcomes() == {}
    assert await api.credits(user) == 0


# ---- what each event does ----


async def test_an_amount_or_currency_mismatch_grants_nothing(api: Api, pg_db: Database) -> None:
    user, p = await api.new_checkout(1000)
    short = intent_succeeded(p, amount=999)
    other_currency = intent_succeeded(p, currency="eur")
    underpaid_session = checkout_completed(p, amount=100)

    assert await api.deliver(short) == "rejected_amount_mismatch"
    assert await api.deliver(other_currency) == "rejected_amount_mismatch"
    assert await api.deliver(underpaid_session) == "rejected_amount_mismatch"

    assert await api.credits(user) == 0
    assert (await api.payment(user, p.payment_id))["status"] == "pending"
    recorded = await pg_db.outcomes()
    assert recorded == {
        evt["id"]: "rejected_amount_mismatch" for evt in (short, other_currency, underpaid_session)
    }
    assert await api.deliver(intent_succeeded(p)) == "granted"
    assert await api.credits(user) == 1000


async def test_an_unpaid_completion_waits_for_the_async_payment(api: Api) -> None:
    user, p = await api.new_checkout(1000)

    assert await api.deliver(checkout_completed(p, paid=False)) == "waiting_for_payment"
    assert await api.credits(user) == 0
    assert (await api.payment(user, p.payment_id))["status"] == "pending"

    assert await api.deliver(async_payment_succeeded(p)) == "granted"
    assert await api.credits(user) == 1000
    assert (await api.payment(user, p.payment_id))["status"] == "completed"


async def test_an_unpaid_completion_then_an_async_failure_fails_the_payment(api: Api) -> None:
    user, p = await api.new_checkout(1000)

    await api.deliver(checkout_completed(p, paid=False))
    assert await api.deliver(async_payment_failed(p)) == "updated"

    payment = await api.payment(user, p.payment_id)
    assert (payment["status"], payment["failure_reason"]) == ("failed", "async_payment_failed")
    assert await api.credits(user) == 0


async def test_an_expired_session_expires_the_payment(api: Api) -> None:
    user, p = await api.new_checkout(1000)

    assert await api.deliver(checkout_expired(p)) == "updated"

    assert (await api.payment(user, p.payment_id))["status"] == "expired"
    assert await api.credits(user) == 0


async def test_a_canceled_intent_cancels_the_payment(api: Api) -> None:
    user = await api.create_user()
    created = await api.payment_intent(user, 1000)
    p = await api.payment_ref(user, created["payment_id"])

    assert await api.deliver(intent_canceled(p, reason="requested_by_customer")) == "updated"

    payment = await api.payment(user, p.payment_id)
    assert (payment["status"], payment["failure_reason"]) == (
        "canceled",
        "requested_by_customer",
    )


async def test_failures_after_completion_are_ignored(api: Api) -> None:
    user, p = await api.new_checkout(1000)
    assert await api.deliver(intent_succeeded(p)) == "granted"
    late = [intent_failed(p), async_payment_failed(p), checkout_expired(p), intent_canceled(p)]

    assert [await api.deliver(evt) for evt in late] == ["no_change"] * 4

    payment = await api.payment(user, p.payment_id)
    assert (payment["status"], payment["failure_reason"]) == ("completed", None)
    assert await api.credits(user) == 1000


async def test_an_admin_refund_and_its_redelivered_events_reverse_once(
    api: Api, pg_db: Database
) -> None:
    user = await api.create_user()
    created = await api.checkout(user, 1000)
    await api.pay(created["session_id"])

    response = await api.refund(created["payment_id"], 400)

    assert response.status_code == 200, response.text
    assert response.json()["credits_reversed"] == 400
    kept = await pg_db.rows("SELECT body FROM sandbox_events WHERE type = 'charge.refunded'")
    (refunded,) = [json.loads(row["body"]) for row in kept]  # as the sandbox kept it
    # Stripe retries the event it already delivered, and announces the refund again.
    assert [await api.deliver(refunded) for _ in range(3)] == ["duplicate"] * 3
    p = await api.payment_ref(user, created["payment_id"])
    (refund,) = refunded["data"]["object"]["refunds"]["data"]
    assert await api.deliver(charge_refunded(p, [(refund["id"], 400)])) == "no_change"
    assert await api.credits(user) == 600
    payment = await api.payment(user, created["payment_id"])
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", 400)
    assert [e["credits"] for e in await api.transactions(user)] == [-400, 1000]


async def test_unknown_event_types_and_other_apps_objects_are_recorded_and_ignored(
    api: Api, pg_db: Database
) -> None:
    user, ours = await api.new_checkout(1000)
    stranger = PaymentRef("pay_other_app", "usr_other_app", 1000, "usd", "cs_other", "pi_other")
    # Metadata naming our payment, but for another user and another intent
    # (docs/failure-modes.md #12).
    forged = PaymentRef(ours.payment_id, "usr_someone_else", 1000, "usd", None, "pi_forged")
    cases = {
        "ignored_unhandled_type": event("customer.created", {"id": "cus_1", "object": "customer"}),
        "ignored_unknown_object": intent_succeeded(stranger),
    }
    others = [checkout_completed(stranger), charge_refunded(stranger, [("re_x", 100)])]

    for expected, evt in cases.items():
        assert await api.deliver(evt) == expected
    assert [await api.deliver(evt) for evt in others] == ["ignored_unknown_object"] * 2
    assert await api.deliver(intent_succeeded(forged)) == "ignored_unknown_object"

    assert await api.credits(user) == 0
    assert (await api.payment(user, ours.payment_id))["status"] == "pending"
    recorded = await pg_db.outcomes()
    assert len(recorded) == 5
    assert recorded[cases["ignored_unhandled_type"]["id"]] == "ignored_unhandled_type"
    assert list(recorded.values()).count("ignored_unknown_object") == 4
    assert await api.deliver(cases["ignored_unknown_object"]) == "duplicate"


# ---- transient failures: 5xx and nothing recorded, so the retry succeeds ----


@pytest.mark.parametrize("how", ["missing_database", "server_stopped"])
async def test_with_the_database_down_the_webhook_answers_5xx_and_a_retry_succeeds(
    api: Api, pg_db: Database, how: str
) -> None:
    user, p = await api.new_checkout(1000)
    evt = intent_succeeded(p)
    down = make_app(unreachable_database_url(api.under_test.database_url, how))

    async with client_of(down) as unavailable:
        response = await unavailable.post_event(evt)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert await pg_db.outcomes() == {}
    assert await api.deliver(evt) == "granted"
    assert await api.credits(user) == 1000


FAIL_LEDGER_WRITES = (
    """
    CREATE FUNCTION e2e_database_goes_away() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'terminating connection due to administrator command'
            USING ERRCODE = 'admin_shutdown';
    END $$
    """,
    """
    CREATE TRIGGER e2e_database_goes_away BEFORE INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION e2e_database_goes_away()
    """,
)
RESTORE_LEDGER_WRITES = (
    "DROP TRIGGER IF EXISTS e2e_database_goes_away ON ledger_entries",
    "DROP FUNCTION IF EXISTS e2e_database_goes_away()",
)


async def test_a_failure_after_the_event_was_claimed_records_nothing(
    api: Api, pg_db: Database
) -> None:
    """docs/failure-modes.md #2: the claim of the event id is rolled back with the failed grant."""
    user, p = await api.new_checkout(1000)
    evt = intent_succeeded(p)
    try:
        for statement in FAIL_LEDGER_WRITES:
            await pg_db.rows(statement)
        failed = [await api.post_event(evt) for _ in range(2)]
    finally:
        for statement in RESTORE_LEDGER_WRITES:
            await pg_db.rows(statement)

    assert [r.status_code for r in failed] == [503, 503], failed[0].text
    assert await pg_db.outcomes() == {}
    assert (await api.payment(user, p.payment_id))["status"] == "pending"
    assert await api.deliver(evt) == "granted"
    assert await api.credits(user) == 1000
