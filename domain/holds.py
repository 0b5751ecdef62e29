"""Holds: credits reserved for work whose cost is known only when it ends.

available = balance - the credits of active holds (docs/ledger.md, Holds). A hold is
placed only when the available balance covers it, so a hold never makes available
negative. It ends once: captured (the captured part is debited, at most the held
amount, and the rest is freed), released, or expired. A hold past ``expires_at``
holds nothing any more, even before ``batch expire-holds`` marks it, and can no
longer be captured.

A user in debt (balance below zero) has no available credits, so no hold can be
placed for them: a reservation promises credits that exist. A dispute hold is the
one kind placed by the service itself; it reserves what is left of the disputed
purchase, at most what is available, and has no expiry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.errors import CaptureExceedsHold, HoldExpired, HoldNotActive, ValidationFailed
from domain.ledger import EntryKind, Posting
from domain.spending import check_client_key, fingerprint

MIN_TTL = timedelta(seconds=1)
MAX_TTL = timedelta(days=7)


class HoldStatus(enum.StrEnum):
    ACTIVE = "active"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


class HoldKind(enum.StrEnum):
    USAGE = "usage"  # placed by a product through the API
    DISPUTE = "dispute"  # placed while a payment's dispute is open


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    user_id: str
    credits: int
    kind: HoldKind
    idempotency_key: str
    created_at: datetime
    expires_at: datetime | None
    status: HoldStatus = HoldStatus.ACTIVE
    captured: int = 0
    settled_at: datetime | None = None
    reference_id: str | None = None  # a dispute hold: the dispute id

    def __post_init__(self) -> None:
        if self.credits <= 0:
            raise ValidationFailed("a hold reserves at least one credit", code="invalid_credits")

    @property
    def is_active(self) -> bool:
        return self.status is HoldStatus.ACTIVE

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def holds_at(self, now: datetime) -> int:
        """The credits this hold keeps from being spent at ``now``."""
        return self.credits if self.is_active and not self.is_expired(now) else 0

    def capture(self, credits: int, now: datetime) -> Hold:
        """The hold captured for ``credits`` (at most what it holds), once."""
        self._check_open(now)
        if credits < 0:
            raise ValidationFailed("credits must not be negative", code="invalid_credits")
        if credits > self.credits:
            raise CaptureExceedsHold(f"hold {self.id} holds {self.credits}, not {credits}")
        return replace(self, status=HoldStatus.CAPTURED, captured=credits, settled_at=now)

    def release(self, now: datetime) -> Hold:
        """Free the credits unspent. Releasing an expired hold ends it as expired."""
        if not self.is_active:
            raise HoldNotActive(f"hold {self.id} is {self.status}")
        status = HoldStatus.EXPIRED if self.is_expired(now) else HoldStatus.RELEASED
        return replace(self, status=status, settled_at=now)

    def expire(self, now: datetime) -> Hold:
        if not (self.is_active and self.is_expired(now)):
            raise HoldNotActive(f"hold {self.id} is {self.status} and not past its expiry")
        return replace(self, status=HoldStatus.EXPIRED, settled_at=now)

    def _check_open(self, now: datetime) -> None:
        if not self.is_active:
            raise HoldNotActive(f"hold {self.id} is {self.status}")
        if self.is_expired(now):
            raise HoldExpired(f"hold {self.id} expired at {self.expires_at}")

    def capture_posting(self) -> Posting:
        """The debit of a capture, keyed by the hold: a hold is captured once."""
        return Posting(
            user_id=self.user_id,
            credits=-self.captured,
            kind=EntryKind.HOLD_CAPTURE,
            reference_type="hold",
            reference_id=self.id,
            idempotency_key=f"capture:{self.id}",
        )


def check_ttl(ttl_seconds: int) -> timedelta:
    ttl = timedelta(seconds=ttl_seconds)
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ValidationFailed(
            f"ttl_seconds must be between {int(MIN_TTL.total_seconds())} and "
            f"{int(MAX_TTL.total_seconds())}",
            code="invalid_ttl",
        )
    return ttl


def hold_fingerprint(user_id: str, credits: int, ttl_seconds: int, key: str) -> str:
    check_client_key(key)
    return fingerprint("hold", user_id, credits, ttl_seconds)
