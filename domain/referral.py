"""Referrals: codes, who may apply one, and when a first purchase pays both sides.

A referral is decided once, by the referred user's first completed purchase: it
qualifies (both users get the bonus), falls short of the minimum (never again), or
finds the referrer at its cap. The terms are copied onto the referral when it is
applied, so every path that completes a payment (webhook, poll, batch) decides with
the same numbers and without configuration.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCycle,
    ReferralWindowClosed,
    ValidationFailed,
)
from domain.ledger import EntryKind, Posting
from domain.payment import Payment
from domain.trial import trial_email_key
from domain.user import User

# No O/0, I/1/L: a code read aloud or copied by hand stays unambiguous.
REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8
SIDES = ("referred", "referrer")


def normalise_referral_code(raw: str) -> str | None:
    """The canonical form of a code a user typed, or None if it cannot be a code."""
    code = raw.strip().upper()
    if len(code) != REFERRAL_CODE_LENGTH or any(ch not in REFERRAL_ALPHABET for ch in code):
        return None
    return code


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    """``min_purchase`` is in US cents; each side gets ``bonus_credits``; a referrer is
    paid for at most ``max_uses`` referrals."""

    min_purchase: int = 1000
    bonus_credits: int = 1000
    max_uses: int = 10

    def __post_init__(self) -> None:
        if min(self.min_purchase, self.bonus_credits, self.max_uses) < 1:
            raise ValidationFailed("referral terms must all be positive")


class ReferralStatus(enum.StrEnum):
    PENDING = "pending"  # applied, no purchase yet
    REWARDED = "rewarded"  # the first purchase qualified; both bonuses granted
    INELIGIBLE = "ineligible"  # the first purchase was under the minimum
    CAPPED = "capped"  # the referrer had already been paid max_uses times
    REVERSED = "reversed"  # the qualifying payment was refunded (or lost a dispute)


def purchase_value(payment: Payment) -> int:
    """What a payment is worth in US cents: its amount in usd, else the credits it bought
    (1 credit = US$0.01, at the configured rate of its currency)."""
    return payment.amount if payment.currency == "usd" else payment.credits


def retained_value(payment: Payment) -> int:
    """``purchase_value`` of what is left after refunds."""
    if payment.currency == "usd":
        return payment.amount - payment.amount_refunded
    return payment.credits - payment.credits_reversed


@dataclass(slots=True)
class Referral:
    """The referral of ``user_id`` (the referred user) by ``referrer_id``; one per user."""

    user_id: str
    referrer_id: str
    terms: ReferralTerms
    created_at: datetime
    status: ReferralStatus = ReferralStatus.PENDING
    payment_id: str | None = None
    decided_at: datetime | None = None
    reversed_at: datetime | None = None

    def qualifies(self, payment: Payment) -> bool:
        return purchase_value(payment) >= self.terms.min_purchase

    def decide(self, outcome: ReferralStatus, payment_id: str, now: datetime) -> None:
        """Record what the first purchase decided; a referral is decided only once."""
        if self.status is not ReferralStatus.PENDING or outcome is ReferralStatus.PENDING:
            raise ValidationFailed(f"referral of {self.user_id} is already {self.status}")
        self.status = outcome
        self.payment_id = payment_id
        self.decided_at = now

    def is_undone_by(self, payment: Payment) -> bool:
        """Whether refunds of the qualifying payment took it back under the minimum.

        A full refund always does; a partial one only when what the user kept is no
        longer a qualifying purchase, so a refund of all but a cent cannot keep $20 of
        bonuses (docs/failure-modes.md #10).
        """
        return (
            self.status is ReferralStatus.REWARDED
            and self.payment_id == payment.id
            and retained_value(payment) < self.terms.min_purchase
        )

    def reverse(self, now: datetime) -> bool:
        if self.status is not ReferralStatus.REWARDED:
            return False
        self.status = ReferralStatus.REVERSED
        self.reversed_at = now
        return True


def check_referral_allowed(
    user: User, referrer: User, *, already_referred: bool, has_purchased: bool
) -> None:
    """Raise unless ``referrer`` may be recorded as having referred ``user`` now.

    "One's own code" includes a code of another account on the same mailbox (the
    normalised email that also limits trials): a second sign-up is not a friend.
    """
    if referrer.id == user.id or trial_email_key(referrer.email) == trial_email_key(user.email):
        raise OwnReferralCode("you cannot apply your own referral code")
    if already_referred:
        raise ReferralAlreadyApplied("a referral code was already applied; it cannot change")
    if has_purchased:
        raise ReferralWindowClosed("referral codes can only be applied before a first purchase")
    if referrer.referred_by == user.id:
        raise ReferralCycle("two users cannot refer each other")


def bonus_postings(referral: Referral) -> tuple[Posting, Posting]:
    """The referred user's and the referrer's bonus, each keyed once per referred user."""
    bonus = referral.terms.bonus_credits
    return (
        _posting(referral.user_id, referral, "referred", bonus),
        _posting(referral.referrer_id, referral, "referrer", bonus),
    )


def reversal_postings(
    referral: Referral, referred_lot: int | None, referrer_lot: int | None
) -> tuple[Posting, Posting]:
    """Take both bonuses back, each from its own lot first; a balance may go into debt."""
    bonus = referral.terms.bonus_credits
    return (
        _posting(referral.user_id, referral, "referred", -bonus, referred_lot),
        _posting(referral.referrer_id, referral, "referrer", -bonus, referrer_lot),
    )


def bonus_key(referral: Referral, side: str) -> str:
    """The grant key of one side's bonus (``SIDES``): once per referred user."""
    return f"referral:{referral.user_id}:{side}"


def _posting(
    user_id: str, referral: Referral, side: str, credits: int, lot: int | None = None
) -> Posting:
    grant = credits > 0
    key = bonus_key(referral, side)
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.REFERRAL_BONUS if grant else EntryKind.BONUS_REVERSAL,
        reference_type="referral",
        reference_id=referral.user_id,
        idempotency_key=key if grant else f"{key}:reversal",
        lot_entry_id=lot,
    )
