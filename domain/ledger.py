"""The ledger's rules: immutable signed entries, one idempotency key each.

A balance changes only through a ``Posting``; the repository turns it into an entry
and moves the cached balance in the same transaction. Every grant is a ``Lot`` whose
unspent part debits consume (the rule is in ``domain.lots``), so expiring a grant
removes exactly what is left of it. Holds reserve credits (available = balance -
held); they are a column of the account already, so they need no rewrite.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain.credits import credits_as_usd
from domain.errors import ValidationFailed


class EntryKind(enum.StrEnum):
    PURCHASE = "purchase"
    REFERRAL_BONUS = "referral_bonus"
    COUPON = "coupon"
    TRIAL = "trial"
    REFUND_REVERSAL = "refund_reversal"
    # Takes back a referral bonus whose qualifying purchase was refunded.
    BONUS_REVERSAL = "bonus_reversal"
    # Gives back a reversal whose refund then failed at the gateway (the money stayed).
    REFUND_RESTORE = "refund_restore"
    # A product's request spent credits (``POST /api/credits/debit``); never below zero.
    USAGE_DEBIT = "usage_debit"
    # The captured part of a hold: spent like a usage debit, under the hold's key.
    HOLD_CAPTURE = "hold_capture"
    # A lost dispute took back what was left of the disputed payment's credits.
    DISPUTE_REVERSAL = "dispute_reversal"
    EXPIRY = "expiry"
    # An operator's correction, either sign (``domain.admin``).
    ADMIN_ADJUSTMENT = "admin_adjustment"
    # A paid subscription invoice's credits, expiring with its period.
    SUBSCRIPTION_GRANT = "subscription_grant"
    # Unused period credits carried into the next period (up to the plan's cap).
    SUBSCRIPTION_ROLLOVER = "subscription_rollover"


# Credits spent: what products debited, directly or by capturing a hold (the runway,
# the admin totals).
SPENT_KINDS = frozenset({EntryKind.USAGE_DEBIT, EntryKind.HOLD_CAPTURE})

# Kinds that may take a balance below zero: reversing credits already spent is
# recorded as debt rather than refused (docs/failure-modes.md #9, 10).
MAY_GO_NEGATIVE = frozenset(
    {EntryKind.REFUND_REVERSAL, EntryKind.BONUS_REVERSAL, EntryKind.DISPUTE_REVERSAL}
)


class Allocation(NamedTuple):
    """``credits`` of one debit taken from the lot created by entry ``lot_entry_id``.

    A grant that undoes a debit gives credits back to the lots it took from: it records
    them as negative allocations (``domain.lots.refill``).
    """

    lot_entry_id: int
    credits: int


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
    # A debit consumes this lot (a grant's entry id) before any other; an expiry
    # consumes nothing else.
    lot_entry_id: int | None = None
    # A grant that undoes a debit gives its credits back to these lots (the debit's
    # allocations) rather than opening a lot of its own (``domain.lots.refill``).
    refills: tuple[Allocation, ...] = ()
    # An operator's debit that may record debt (``domain.admin``); no other kind may ask.
    allow_debt: bool = False

    def __post_init__(self) -> None:
        if self.credits == 0:
            raise ValidationFailed("a posting must move at least one credit")
        if not self.idempotency_key or len(self.idempotency_key) > 255:
            raise ValidationFailed("a posting needs an idempotency key of 1-255 characters")
        if self.expires_at is not None and self.credits < 0:
            raise ValidationFailed("only grants may expire")
        if self.expires_at is not None and self.kind is EntryKind.PURCHASE:
            raise ValidationFailed("purchased credits never expire")
        if self.lot_entry_id is not None and self.credits > 0:
            raise ValidationFailed("only a debit may name a lot to consume")
        if self.refills and (self.credits < 0 or self.expires_at is not None):
            raise ValidationFailed("only a grant without its own expiry may refill lots")
        if self.kind is EntryKind.EXPIRY and (self.lot_entry_id is None or self.credits > 0):
            raise ValidationFailed("an expiry removes credits from one named lot")
        if self.allow_debt and self.kind is not EntryKind.ADMIN_ADJUSTMENT:
            raise ValidationFailed("only an operator's adjustment may ask to record debt")

    @property
    def may_go_negative(self) -> bool:
        return self.credits > 0 or self.kind in MAY_GO_NEGATIVE or self.allow_debt


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
class Lot:
    """A grant seen as a source of credits: what it gave and what is still unspent.

    ``remaining`` starts below ``credits`` when the grant first repaid debt, and only
    goes down: debits consume it, an expiry takes whatever is left.
    """

    entry_id: int
    user_id: str
    credits: int
    remaining: int
    expires_at: datetime | None
    kind: EntryKind
    idempotency_key: str


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


def purchase_key(payment_id: str) -> str:
    """The one grant key of a payment, whichever event grants it (docs/failure-modes.md #1)."""
    return f"purchase:{payment_id}"


def purchase_posting(user_id: str, payment_id: str, credits: int) -> Posting:
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.PURCHASE,
        reference_type="payment",
        reference_id=payment_id,
        idempotency_key=purchase_key(payment_id),
    )


def refund_posting(
    user_id: str, payment_id: str, refund_id: str, credits: int, lot_entry_id: int | None = None
) -> Posting:
    """Take back refunded credits: from the purchase's own lot (``lot_entry_id``) first."""
    return Posting(
        user_id=user_id,
        credits=-credits,
        kind=EntryKind.REFUND_REVERSAL,
        reference_type="refund",
        reference_id=refund_id,
        idempotency_key=refund_key(payment_id, refund_id),
        lot_entry_id=lot_entry_id,
    )


def refund_key(payment_id: str, refund_id: str) -> str:
    """The key of the entry that reverses one refund of a payment."""
    return f"refund:{payment_id}:{refund_id}"


def refund_restore_posting(
    user_id: str,
    payment_id: str,
    refund_id: str,
    credits: int,
    refills: tuple[Allocation, ...] = (),
) -> Posting:
    """Give back what a refund that failed at the gateway had taken.

    The credits go back to the lots the reversal took them from (``refills``: the
    purchase's own lot first), so they keep those lots' expiry and a later refund finds
    them where it would have found them had the failed refund never happened. What the
    reversal took as debt repays debt first, like any grant; only what later grants had
    already repaid becomes a non-expiring lot of this entry.
    """
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.REFUND_RESTORE,
        reference_type="refund",
        reference_id=refund_id,
        idempotency_key=f"refund_restored:{payment_id}:{refund_id}",
        refills=refills,
    )


def expiry_posting(lot: Lot) -> Posting:
    """Remove the unspent rest of an expired lot; its key makes expiring twice a no-op."""
    return Posting(
        user_id=lot.user_id,
        credits=-lot.remaining,
        kind=EntryKind.EXPIRY,
        reference_type="lot",
        reference_id=str(lot.entry_id),
        idempotency_key=f"expiry:{lot.entry_id}",
        lot_entry_id=lot.entry_id,
    )


def dispute_posting(
    user_id: str, payment_id: str, dispute_id: str, credits: int, lot_entry_id: int | None
) -> Posting:
    """Take back a lost dispute's credits: the purchase's own lot first, then debt."""
    return Posting(
        user_id=user_id,
        credits=-credits,
        kind=EntryKind.DISPUTE_REVERSAL,
        reference_type="dispute",
        reference_id=dispute_id,
        idempotency_key=f"dispute:{payment_id}:{dispute_id}",
        lot_entry_id=lot_entry_id,
    )
