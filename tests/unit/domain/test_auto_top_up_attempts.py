"""An auto top-up's attempts, keys and states (``domain.auto_top_up``): each attempt has
its own gateway keys, and a top-up waiting for the user is still in flight."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.auto_top_up import AutoTopUp, TopUpStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def requested() -> AutoTopUp:
    return AutoTopUp("atu_1", "u1", TopUpStatus.REQUESTED, 1000, "usd", NOW, NOW)


def test_each_attempt_has_its_own_charge_and_checkout_keys() -> None:
    first = requested()
    retried = first.declined("card_declined", failures=1, now=NOW)

    assert (first.idempotency_key, first.checkout_key) == (
        "auto_top_up:atu_1",
        "auto_top_up:atu_1:checkout",
    )
    assert (retried.idempotency_key, retried.checkout_key) == (
        "auto_top_up:atu_1:1",
        "auto_top_up:atu_1:1:checkout",
    )


def test_waiting_for_the_user_is_in_flight_until_paid_or_expired() -> None:
    waiting = requested().needs_action("authentication_required", "https://pay.example/cs_1")

    paid = waiting.paid_on_session()
    lapsed = waiting.unpaid_on_session("checkout_expired")

    assert waiting.in_flight and (waiting.status, waiting.attempts) == (
        TopUpStatus.ACTION_REQUIRED,
        1,
    )
    assert waiting.action_url == "https://pay.example/cs_1"
    assert (paid.status, paid.attempts, paid.action_url, paid.in_flight) == (
        TopUpStatus.SUCCEEDED,
        1,
        None,
        False,
    )
    assert (lapsed.status, lapsed.attempts, lapsed.last_error, lapsed.in_flight) == (
        TopUpStatus.FAILED,
        1,
        "checkout_expired",
        False,
    )


def test_a_checkout_closed_before_its_attempt_was_recorded_ends_that_attempt() -> None:
    lapsed = requested().unpaid_on_session("checkout_expired")

    assert (lapsed.status, lapsed.attempts) == (TopUpStatus.FAILED, 1)
