"""Domain events: what the Payment records for each change, and what makes an id."""

from __future__ import annotations

import json
from copy import copy
from datetime import UTC, datetime, timedelta

from domain.events import (
    CreditsExpired,
    CreditsGranted,
    PaymentClosed,
    PaymentCompleted,
    RefundApplied,
    RefundRestored,
)
from domain.ledger import EntryKind, LedgerEntry
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def pending(amount: int = 1000, credits: int = 1000) -> Payment:
    return Payment(
        "pay_1", "usr_1", PaymentKind.CHECKOUT, amount, "usd", credits, PaymentStatus.PENDING, NOW
    )


def test_completing_records_one_event_and_completing_again_none() -> None:
    p = pending()
    assert p.complete(NOW) and not p.complete(LATER)
    assert p.events == [
        PaymentCompleted(
            user_id="usr_1",
            occurred_at=NOW,
            payment_id="pay_1",
            amount=1000,
            currency="usd",
            credits=1000,
        )
    ]


def test_each_closing_records_its_status_and_reason() -> None:
    failed, canceled, expired = pending(), pending(), pending()
    failed.fail("card_declined", NOW)
    failed.fail("expired_card", LATER)  # a retry declined again: a second change
    canceled.cancel("abandoned", NOW)
    expired.expire(NOW)
    expired.fail("card_declined", LATER)  # the reason of a closed payment, learned late

    def closings(p: Payment) -> list[tuple[str, str | None]]:
        return [(e.status, e.reason) for e in p.events if isinstance(e, PaymentClosed)]

    assert closings(failed) == [("failed", "card_declined"), ("failed", "expired_card")]
    assert closings(canceled) == [("canceled", "abandoned")]
    assert closings(expired) == [("expired", None), ("expired", "card_declined")]
    assert len({e.event_id for e in (*failed.events, *expired.events)}) == 4


def test_a_late_event_for_a_paid_payment_records_nothing() -> None:
    p = pending()
    p.complete(NOW)
    p.events.clear()
    assert not p.fail("card_declined", LATER)
    assert not p.cancel("abandoned", LATER)
    assert not p.expire(LATER)
    assert p.events == []


def test_a_refund_records_what_it_reversed_and_its_failure_what_came_back() -> None:
    p = pending(1000, 1332)
    p.complete(NOW)
    p.events.clear()

    assert p.credits_to_reverse(400) == 532
    assert (p.amount_refunded, p.credits_reversed, p.events) == (0, 0, [])
    assert p.record_refund(400, NOW, refund_id="re_1") == 532
    assert p.record_refund(0, NOW, refund_id="re_0") == 0  # nothing refunded: no change
    assert p.restore_refund(0, LATER, refund_id="re_1") == 532

    assert p.events == [
        RefundApplied(
            user_id="usr_1",
            occurred_at=NOW,
            payment_id="pay_1",
            refund_id="re_1",
            amount=400,
            credits_reversed=532,
            amount_refunded=400,
        ),
        RefundRestored(
            user_id="usr_1",
            occurred_at=LATER,
            payment_id="pay_1",
            refund_id="re_1",
            credits_restored=532,
            amount_refunded=0,
        ),
    ]


def test_a_copy_starts_with_no_events_of_its_own() -> None:
    p = pending()
    p.complete(NOW)
    twin = copy(p)
    assert twin == p and twin.events == []
    twin.fail("card_declined", NOW)
    assert len(p.events) == 1


def test_the_same_fact_has_the_same_id_whenever_it_is_recorded() -> None:
    first, second = pending(), pending()
    first.complete(NOW)
    second.complete(LATER)  # another path completing the same payment later
    assert first.events[0].event_id == second.events[0].event_id
    assert first.events[0].event_id.startswith("evt_")

    entry = LedgerEntry(
        7, "usr_1", 1000, EntryKind.PURCHASE, "payment", "pay_1", "purchase:pay_1", 1000, NOW
    )
    retried = LedgerEntry(
        9, "usr_1", 1000, EntryKind.PURCHASE, "payment", "pay_1", "purchase:pay_1", 1000, LATER
    )
    other = LedgerEntry(
        8, "usr_1", 1000, EntryKind.PURCHASE, "payment", "pay_2", "purchase:pay_2", 2000, NOW
    )
    assert CreditsGranted.of(entry).event_id == CreditsGranted.of(retried).event_id
    assert CreditsGranted.of(entry).event_id != CreditsGranted.of(other).event_id
    assert CreditsGranted.of(entry).event_id != first.events[0].event_id  # types differ


def test_payloads_are_json_with_times_as_iso_strings() -> None:
    expiry = LedgerEntry(12, "usr_1", -300, EntryKind.EXPIRY, "lot", "7", "expiry:7", 0, NOW)
    event = CreditsExpired.of(expiry, 7)
    assert (event.user_id, event.occurred_at) == ("usr_1", NOW)
    assert event.payload == {"credits": 300, "lot_entry_id": 7, "entry_id": 12, "balance_after": 0}

    coupon = LedgerEntry(
        3, "usr_1", 500, EntryKind.COUPON, "coupon", "cpn_1", "coupon:cpn_1:usr_1", 500, NOW,
        expires_at=LATER,
    )  # fmt: skip
    payload = CreditsGranted.of(coupon).payload
    assert (payload["kind"], payload["expires_at"]) == ("coupon", LATER.isoformat())
    assert json.loads(json.dumps(payload)) == payload
