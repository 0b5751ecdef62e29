"""The retry schedule of outbound events: doubling waits with jitter, three days at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.outbound import RetrySchedule

T0 = datetime(2027, 1, 1, tzinfo=UTC)
SCHEDULE = RetrySchedule()


def test_waits_double_from_30_seconds_to_a_6_hour_cap_at_the_top_of_their_jitter() -> None:
    top = [SCHEDULE.delay(n, 0.999999).total_seconds() for n in range(1, 13)]

    assert [round(s) for s in top] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3840,
        7680,
        15360,
        21600,
        21600,
    ]


def test_jitter_spreads_a_wait_over_its_upper_half() -> None:
    assert SCHEDULE.delay(3, 0.0) == timedelta(seconds=60)
    assert SCHEDULE.delay(3, 0.5) == timedelta(seconds=90)


@given(failures=st.integers(1, 10_000), jitter=st.floats(0.0, 1.0, exclude_max=True))
def test_a_wait_is_positive_and_never_past_the_cap(failures: int, jitter: float) -> None:
    wait = SCHEDULE.delay(failures, jitter)

    assert timedelta(seconds=15) <= wait <= SCHEDULE.cap


@pytest.mark.parametrize(("failures", "jitter"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_out_of_range_inputs_are_refused(failures: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        SCHEDULE.delay(failures, jitter)


def test_the_last_attempt_is_when_the_three_days_end_then_the_event_is_given_up() -> None:
    late = T0 + timedelta(days=2, hours=23)

    assert SCHEDULE.next_attempt(20, T0, late, 0.5) == T0 + timedelta(days=3)
    assert SCHEDULE.next_attempt(21, T0, T0 + timedelta(days=3), 0.5) is None


@pytest.mark.parametrize(("jitter", "attempts"), [(0.0, 34), (0.999999, 22)])
def test_three_days_of_failures_make_22_to_34_attempts(jitter: float, attempts: int) -> None:
    """Every attempt fails at once: count them until the event is given up."""
    now, made = T0, 1
    while (at := SCHEDULE.next_attempt(made, T0, now, jitter)) is not None:
        now, made = at, made + 1

    assert made == attempts
    assert now == T0 + timedelta(days=3)
