"""When to try an outbound event again, and when to stop trying.

Delivery is at least once: a failed attempt is tried again after a delay that doubles
with each attempt, capped, and spread by jitter so that a receiver coming back from an
outage is not hit by every waiting event at the same second. After three days of
failures the event is given up (dead); an operator can still deliver it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """``base`` after the first failure, doubled after each next one, at most ``cap``;
    no more attempts once ``give_up_after`` has passed since the first one."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=6)
    give_up_after: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.base <= self.cap:
            raise ValueError("a retry schedule needs 0 < base <= cap")

    def delay(self, failures: int, jitter: float) -> timedelta:
        """The wait after the ``failures``-th failure in a row (1 for the first).

        ``jitter`` in [0, 1) picks a point in the upper half of the exponential delay
        ("equal jitter"): waits still grow with each failure, and never collapse to 0.
        """
        if failures < 1 or not 0.0 <= jitter < 1.0:
            raise ValueError("failures starts at 1 and jitter is in [0, 1)")
        exponent = min(failures - 1, 32)  # 2**32 * base is past any cap
        ceiling = min(self.cap, self.base * (1 << exponent))
        return ceiling / 2 + ceiling / 2 * jitter

    def next_attempt(
        self, failures: int, first_attempt_at: datetime, now: datetime, jitter: float
    ) -> datetime | None:
        """When to try again after a failure at ``now``; None when it is time to give up.

        The last attempt is made when the three days end, however long the wait before
        it would have been: a failure then (or later) gives the event up.
        """
        deadline = first_attempt_at + self.give_up_after
        if now >= deadline:
            return None
        return min(now + self.delay(failures, jitter), deadline)
