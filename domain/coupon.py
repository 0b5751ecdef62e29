"""Coupons: codes an admin creates that grant credits once per user.

Whether a coupon may be redeemed now is decided here from its terms and the clock;
the two limits that concurrent redemptions race for (one per user, ``max_redemptions``
overall) are decided by the database, never by a read (docs/failure-modes.md #4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import (
    CouponBlockedByDebt,
    CouponExpired,
    CouponInactive,
    CouponNotAssigned,
    CouponNotYetValid,
    InvalidCouponCode,
    ValidationFailed,
)
from domain.ledger import EntryKind, Posting

_CODE = re.compile(r"[A-Za-z0-9_-]{3,50}")
MAX_COUPON_CREDITS = 10_000_000
MAX_CREDIT_EXPIRY_DAYS = 3650


def normalise_coupon_code(raw: str) -> str | None:
    """Codes are case-insensitive: the canonical form is upper-case. None if malformed."""
    code = raw.strip()
    return code.upper() if _CODE.fullmatch(code) else None


def parse_coupon_code(raw: str) -> str:
    """``normalise_coupon_code`` for an admin creating a coupon: malformed is an error."""
    code = normalise_coupon_code(raw)
    if code is None:
        raise InvalidCouponCode("a coupon code is 3-50 letters, digits, '-' or '_'")
    return code


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What an admin may set and change; valid by construction."""

    credits: int
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = None
    assigned_user_id: str | None = None
    credit_expiry_days: int | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.credits <= MAX_COUPON_CREDITS:
            raise ValidationFailed(f"credits must be between 1 and {MAX_COUPON_CREDITS}")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationFailed("valid_until must be after valid_from")
        if self.max_redemptions is not None and self.max_redemptions < 1:
            raise ValidationFailed("max_redemptions must be at least 1 (or null: unlimited)")
        days = self.credit_expiry_days
        if days is not None and not 1 <= days <= MAX_CREDIT_EXPIRY_DAYS:
            raise ValidationFailed(
                f"credit_expiry_days must be between 1 and {MAX_CREDIT_EXPIRY_DAYS}"
            )


@dataclass(slots=True)
class Coupon:
    id: str
    code: str
    terms: CouponTerms
    created_at: datetime
    redemptions: int = 0
    updated_at: datetime | None = None

    def check_redeemable(self, user_id: str, now: datetime) -> None:
        """Raise unless ``user_id`` may redeem now, leaving aside the two raced limits."""
        terms = self.terms
        if not terms.active:
            raise CouponInactive(f"coupon {self.code} is not active")
        if terms.valid_from is not None and now < terms.valid_from:
            raise CouponNotYetValid(f"coupon {self.code} is valid from {terms.valid_from}")
        if terms.valid_until is not None and now >= terms.valid_until:
            raise CouponExpired(f"coupon {self.code} expired at {terms.valid_until}")
        if terms.assigned_user_id is not None and terms.assigned_user_id != user_id:
            raise CouponNotAssigned(f"coupon {self.code} is reserved for another user")

    def credits_expire_at(self, now: datetime) -> datetime | None:
        days = self.terms.credit_expiry_days
        return None if days is None else now + timedelta(days=days)

    def grant(self, user_id: str, now: datetime) -> Posting:
        """The ledger grant of one redemption: keyed once per coupon and user."""
        return Posting(
            user_id=user_id,
            credits=self.terms.credits,
            kind=EntryKind.COUPON,
            reference_type="coupon",
            reference_id=self.id,
            idempotency_key=coupon_key(self.id, user_id),
            expires_at=self.credits_expire_at(now),
        )


def coupon_key(coupon_id: str, user_id: str) -> str:
    return f"coupon:{coupon_id}:{user_id}"


def check_not_in_debt(balance: int) -> None:
    """A user in debt (refunded credits already spent) settles it before redeeming:
    a promotion must not pay back money the user owes."""
    if balance < 0:
        raise CouponBlockedByDebt(f"settle the negative balance of {balance} credits first")


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    coupon_id: str
    code: str
    user_id: str
    credits: int
    redeemed_at: datetime
    credits_expire_at: datetime | None = None
