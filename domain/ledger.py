"""The ledger's rules: immutable signed entries, one idempotency key each.

A balance changes only through a ``Posting``; the repository turns it into an entry
and moves the cached balance in the same transaction. Grants are lots that may
expire; holds reserve credits (available = balance - held). Both are columns of the
same tables, so the features that use them need no rewrite.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.credits import credits_as_usd
from domain.errors import ValidationFailed


class EntryKind(enum.StrEnum):
    PURCHASE = "purchase"
    REFERRAL_BONUS = "referral_bonus"
    COUPON = "coupon"
    TRIAL = "trial"
    SUBSCRIPTION_GRANT = "subscription_grant"
    REFUND_REVERSAL = "refund_reversal"
    DISPUTE_HOLD = "dispute_hold"
    ADMIN_ADJUSTMENT = "admin_adjustment"
    USAGE_DEBIT = "usage_debit"
    EXPIRY = "expiry"


# Kinds that may take a balance below zero: reversing credits already spent is
# recorded as debt rather than refused (LESSONS 9).
MAY_GO_NEGATIVE = frozenset(
    {EntryKind.REFUND_REVERSAL, EntryKind.DISPUTE_HOLD, EntryKind.ADMIN_ADJUSTMENT}
)


@dataclass(frozen=True, slots=True)
class Posting:
    """A request to move one user's balance, with the key that makes it happen once."""

    user_id: str
    credits: int
    kind: EntryKind
    reference_type: str
    reference_id: str
    idempotency_key: str
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.credits == 0:
            raise ValidationFailed("a posting must move at least one credit")
        if not self.idempotency_key or len(self.idempotency_key) > 255:
            raise ValidationFailed("a posting needs an idempotency key of 1-255 characters")
        if self.expires_at is not None and self.credits < 0:
            raise ValidationFailed("only grants may expire")

    @property
    def may_go_negative(self) -> bool:
        return self.credits > 0 or self.kind in MAY_GO_NEGATIVE


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: str
    credits: int
    kind: EntryKind
    reference_type: str
    reference_id: str
    idempotency_key: str
    balance_after: int
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """The cached balance of one user; always equal to the sum of their entries."""

    user_id: str
    balance: int
    held: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def balance_usd(self) -> str:
        return credits_as_usd(self.balance)


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    user_id: str
    cached: int
    summed: int


def purchase_posting(user_id: str, payment_id: str, credits: int) -> Posting:
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.PURCHASE,
        reference_type="payment",
        reference_id=payment_id,
        idempotency_key=f"purchase:{payment_id}",
    )


def refund_posting(user_id: str, payment_id: str, refund_id: str, credits: int) -> Posting:
    return Posting(
        user_id=user_id,
        credits=-credits,
        kind=EntryKind.REFUND_REVERSAL,
        reference_type="refund",
        reference_id=refund_id,
        idempotency_key=f"refund:{payment_id}:{refund_id}",
    )
