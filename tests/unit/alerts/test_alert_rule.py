"""The alert rule alone: fire once per crossing, re-arm when the condition ends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.alerts import AlertFlags, AlertSettings, AlertState, decide, rearm, runway_days
from domain.errors import DomainError

WATCHED = AlertSettings(low_balance_threshold=100, runway_alert_days=3)


def walk(balances: list[int]) -> list[tuple[bool, bool]]:
    state, fired = AlertState(WATCHED), []
    for available in balances:
        decision = decide(state, available, None)
        fired.append((decision.low_balance, decision.depleted))
        state = AlertState(WATCHED, decision.flags)
    return fired


def test_low_balance_fires_once_per_crossing_and_re_arms_above() -> None:
    assert walk([150, 90, 80, 120, 99, 0, 0, 50]) == [
        (False, False),
        (True, False),
        (False, False),
        (False, False),
        (True, False),
        (False, True),
        (False, False),
        (False, False),
    ]


def test_a_change_that_gives_credits_back_only_re_arms() -> None:
    fired = AlertState(WATCHED, AlertFlags(low_balance=False, depleted=False, runway_low=False))

    assert rearm(fired, 50, None) == AlertFlags(low_balance=False, depleted=True, runway_low=True)
    assert rearm(fired, 500, None) == AlertFlags()


def test_runway_low_fires_under_the_days_and_not_without_spending() -> None:
    state = AlertState(WATCHED)

    assert decide(state, 1000, Decimal("2.5")).runway_low
    assert not decide(state, 1000, Decimal("3")).runway_low
    assert not decide(state, 1000, None).runway_low


def test_runway_is_the_available_credits_over_the_window_rate() -> None:
    assert runway_days(700, 700) == Decimal("7.0")
    assert runway_days(100, 1400) == Decimal("0.5")
    assert runway_days(1000, 0) is None
    assert runway_days(-5, 70) == Decimal("0.0")


def test_thresholds_are_positive() -> None:
    with pytest.raises(DomainError):
        AlertSettings(low_balance_threshold=0)
