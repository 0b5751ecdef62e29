"""An operator's credit adjustments: what one may grant, and how it enters the ledger.

A grant is capped per adjustment (``max_grant``) and per admin key over any 24 hours
(``daily_grant_limit``): a leaked or mistyped admin key can only mint so much. A
debit (a negative adjustment) is not capped, since it creates no liability, but by
default it may not take the user's available credits below zero; an operator who
means to record debt says so (``allow_debt``), as a refund reversal records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import (
    AdminDailyGrantLimit,
    AdminGrantTooLarge,
    DomainError,
    ValidationFailed,
)
from domain.ledger import EntryKind, Posting

GRANT_WINDOW = timedelta(hours=24)
MIN_REASON = 10
MAX_REASON = 500
MAX_KEY = 200
REFERENCE_TYPE = "admin_key"


@dataclass(frozen=True, slots=True)
class AdjustmentLimits:
    max_grant: int = 100_000
    daily_grant_limit: int = 1_000_000

    def __post_init__(self) -> None:
        if self.max_grant < 1 or self.daily_grant_limit < 1:
            raise ValidationFailed("admin grant limits must be positive")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An operator's request: ``credits`` of either sign for ``user_id``, and why."""

    user_id: str
    credits: int
    reason: str
    idempotency_key: str
    allow_debt: bool = False

    def __post_init__(self) -> None:
        if self.credits == 0:
            raise DomainError("an adjustment moves at least one credit", code="zero_credits")
        if not MIN_REASON <= len(self.reason.strip()) <= MAX_REASON:
            raise DomainError(
                f"reason must be {MIN_REASON}-{MAX_REASON} characters besides spaces",
                code="reason_too_short",
            )
        if not 1 <= len(self.idempotency_key) <= MAX_KEY:
            raise ValidationFailed(f"idempotency_key must be 1-{MAX_KEY} characters")
        if self.allow_debt and self.credits > 0:
            raise DomainError("only a debit may ask to record debt", code="debt_needs_a_debit")


def check_grant(credits: int, granted_in_window: int, limits: AdjustmentLimits) -> None:
    """Refuse a grant above the single cap or past the key's 24-hour total."""
    if credits <= 0:
        return
    if credits > limits.max_grant:
        raise AdminGrantTooLarge(
            f"one adjustment may grant at most {limits.max_grant} credits (ADMIN_MAX_GRANT)"
        )
    if granted_in_window + credits > limits.daily_grant_limit:
        left = max(limits.daily_grant_limit - granted_in_window, 0)
        raise AdminDailyGrantLimit(
            f"this admin key may grant {left} more credits in the current 24 hours "
            f"(ADMIN_DAILY_GRANT_LIMIT {limits.daily_grant_limit})"
        )


def window_start(now: datetime) -> datetime:
    return now - GRANT_WINDOW


def adjustment_key(admin_key_id: str, idempotency_key: str) -> str:
    """The ledger key: one admin key's idempotency keys never collide with another's."""
    return f"admin:{admin_key_id}:{idempotency_key}"


def adjustment_posting(adjustment: Adjustment, admin_key_id: str) -> Posting:
    """The entry names the acting admin key (``reference_id``); grants never expire."""
    return Posting(
        user_id=adjustment.user_id,
        credits=adjustment.credits,
        kind=EntryKind.ADMIN_ADJUSTMENT,
        reference_type=REFERENCE_TYPE,
        reference_id=admin_key_id,
        idempotency_key=adjustment_key(admin_key_id, adjustment.idempotency_key),
        allow_debt=adjustment.allow_debt,
    )
