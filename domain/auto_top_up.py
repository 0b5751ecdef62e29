"""Auto top-up: buy credits from the saved card when available credits fall below a
threshold, at most one in flight per user and within a monthly limit.

A request is made in the transaction of the change that crossed the threshold; the
charge happens later, outside any transaction (the worker). Declines are retried on
``RETRY_AFTER``; ``MAX_FAILURES`` failures in a row turn auto top-up off.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from domain.errors import ValidationFailed

MAX_FAILURES = 3
# After the first and the second failure in a row; the third disables.
RETRY_AFTER = (timedelta(hours=1), timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class AutoTopUpSettings:
    """``amount``: what each top-up charges (minor units of ``currency``), unless
    ``package_id`` names a package; ``monthly_limit``: the most charged per calendar
    month (UTC), in the same units."""

    enabled: bool
    threshold_credits: int
    amount: int
    currency: str = "usd"
    package_id: str | None = None
    monthly_limit: int = 0
    failures: int = 0  # failed charges in a row; a success resets it

    def __post_init__(self) -> None:
        if self.threshold_credits < 1:
            raise ValidationFailed("threshold_credits must be at least 1")
        if self.amount < 1:
            raise ValidationFailed("amount must be positive")
        if self.monthly_limit < self.amount:
            raise ValidationFailed(
                "monthly_limit must cover at least one top-up", code="monthly_limit_below_amount"
            )

    def wants(self, available: int) -> bool:
        return self.enabled and available < self.threshold_credits


class TopUpStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the worker (first try or a retry)
    SUCCEEDED = "succeeded"
    ACTION_REQUIRED = "action_required"  # the bank asked the user to authenticate
    FAILED = "failed"


IN_FLIGHT = (TopUpStatus.REQUESTED,)


@dataclass(frozen=True, slots=True)
class AutoTopUp:
    id: str
    user_id: str
    status: TopUpStatus
    amount: int
    currency: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    package_id: str | None = None
    payment_id: str | None = None
    last_error: str | None = None

    @property
    def idempotency_key(self) -> str:
        """The gateway key of this attempt: a retry is a new charge, a crash is not."""
        base = f"auto_top_up:{self.id}"
        return base if self.attempts == 0 else f"{base}:{self.attempts}"

    def succeeded(self) -> AutoTopUp:
        return replace(self, status=TopUpStatus.SUCCEEDED, attempts=self.attempts + 1)

    def needs_action(self, error: str) -> AutoTopUp:
        return replace(
            self, status=TopUpStatus.ACTION_REQUIRED, attempts=self.attempts + 1, last_error=error
        )

    def declined(self, error: str, failures: int, now: datetime) -> AutoTopUp:
        """Retried later unless this was the ``MAX_FAILURES``-th failure in a row."""
        tried = replace(self, attempts=self.attempts + 1, last_error=error)
        if failures >= MAX_FAILURES:
            return replace(tried, status=TopUpStatus.FAILED)
        wait = RETRY_AFTER[min(failures, len(RETRY_AFTER)) - 1]
        return replace(tried, next_attempt_at=now + wait)


def month_start(now: datetime) -> datetime:
    at = now.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)
