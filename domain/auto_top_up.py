"""Auto top-up: buy credits from the saved card when available credits fall below a
threshold, at most one in flight per user and within a monthly limit.

A request is made in the transaction of the change that crossed the threshold; the
charge happens later, outside any transaction (the worker). Declines are retried on
``RETRY_AFTER``; ``MAX_FAILURES`` failures in a row turn auto top-up off. A charge the
bank wants the user to authenticate is replaced by a hosted Checkout for the same
amount (``ACTION_LINK_LIFETIME``): the top-up stays in flight until that Checkout is
paid (succeeded) or closes unpaid (failed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from domain.errors import ValidationFailed

MAX_FAILURES = 3
# After the first and the second failure in a row; the third disables.
RETRY_AFTER = (timedelta(hours=1), timedelta(hours=6))
# How long the user has to authenticate: Stripe keeps a Checkout open 24 hours at most,
# counted on its own clock, so an hour is left for skew and the time to create it.
ACTION_LINK_LIFETIME = timedelta(hours=23)
KEY_PREFIX = "auto_top_up:"


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
    ACTION_REQUIRED = "action_required"  # waiting for the user to pay the Checkout link
    FAILED = "failed"


# At most one per user (a unique partial index); both count towards the monthly limit.
IN_FLIGHT = (TopUpStatus.REQUESTED, TopUpStatus.ACTION_REQUIRED)


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
    payment_id: str | None = None  # the off-session charge of the last attempt
    last_error: str | None = None
    checkout_payment_id: str | None = None  # the Checkout that asks the user to authenticate
    action_url: str | None = None  # that Checkout's page

    @property
    def idempotency_key(self) -> str:
        """The gateway key of this attempt: a retry is a new charge, a crash is not."""
        base = f"{KEY_PREFIX}{self.id}"
        return base if self.attempts == 0 else f"{base}:{self.attempts}"

    @property
    def checkout_key(self) -> str:
        """The gateway key of the Checkout that replaces this attempt's charge (and the
        start of its payment's client key)."""
        return f"{self.idempotency_key}:checkout"

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def succeeded(self) -> AutoTopUp:
        return replace(self, status=TopUpStatus.SUCCEEDED, attempts=self.attempts + 1)

    def needs_action(self, error: str, url: str) -> AutoTopUp:
        """The attempt ended asking for authentication; the user pays at ``url``."""
        return replace(
            self,
            status=TopUpStatus.ACTION_REQUIRED,
            attempts=self.attempts + 1,
            last_error=error,
            action_url=url,
        )

    def paid_on_session(self) -> AutoTopUp:
        """The user paid the Checkout: the top-up is done (no new attempt was made)."""
        return replace(self, status=TopUpStatus.SUCCEEDED, action_url=None)

    def unpaid_on_session(self, error: str) -> AutoTopUp:
        """The Checkout closed unpaid (it expired): the next crossing may request again.

        Closed before the worker recorded its attempt (still requested), it ends that
        attempt too, so each attempt is counted, and reported, once.
        """
        ended = self.attempts + (1 if self.status is TopUpStatus.REQUESTED else 0)
        return replace(
            self, status=TopUpStatus.FAILED, attempts=ended, last_error=error, action_url=None
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
