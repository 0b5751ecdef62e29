"""Referrals: codes, who may apply one, and when a first purchase pays both sides.

A referral is decided by the referred user's first purchase: the completed payment
*opened* first (``opened_before``), whichever is fulfilled first. It qualifies (both
users get the bonus), falls short of the minimum (never again), or finds the referrer
at its cap. The bonuses stand while that purchase keeps the minimum after refunds.
A payment opened earlier but fulfilled later, or a refund that fails after it was
applied, revisits the decision (``Referral.settle``), so every delivery order ends in
the same state; each time the bonuses are taken back or given back again has its own
ledger key, so none is granted twice or lost. The terms are copied onto the referral
when it is applied, so every path that completes a payment (webhook, poll, batch)
decides with the same numbers and without configuration.
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
from domain.ledger import Allocation, EntryKind, Posting
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


# The referrer's use is taken when the bonuses are first paid and kept while reversed.
HOLDS_USE = frozenset({ReferralStatus.REWARDED, ReferralStatus.REVERSED})


class BonusMove(enum.Enum):
    GRANT = "grant"
    TAKE_BACK = "take_back"


def opened_before(payment: Payment, other: Payment) -> bool:
    """Whether ``payment`` comes before ``other`` as a purchase: opened earlier (our
    row's ``created_at``, ties by id). Known on every path that completes a payment and
    never changed by the gateway's events, so it does not depend on delivery order."""
    return (payment.created_at, payment.id) < (other.created_at, other.id)


def purchase_value(payment: Payment) -> int:
    """What a payment is worth in US cents: its amount in usd, else the credits it bought
    (1 credit = US$0.01, at the configured rate of its currency)."""
    return payment.amount if payment.currency == "usd" else payment.credits


def retained_value(payment: Payment) -> int:
    """``purchase_value`` of what is left after refunds; nothing once a dispute is lost
    (its money went back, as with a full refund)."""
    if payment.credits_disputed:
        return 0
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

    # How many times the bonuses were taken back: each reversal, and each grant after
    # one, has its own ledger key (``bonus_postings``, ``reversal_postings``).
    reversals: int = 0

    @property
    def holds_use(self) -> bool:
        return self.status in HOLDS_USE

    def qualifies(self, payment: Payment) -> bool:
        return purchase_value(payment) >= self.terms.min_purchase

    def settle(self, first: Payment, has_use: bool, now: datetime) -> BonusMove | None:
        """Record what the first purchase ``first`` decides now, with its refunds; says
        whether the bonuses must be granted or taken back.

        ``has_use``: the referrer's use is held for this referral (else it is capped).
        Idempotent: settling again on the same facts moves nothing.
        """
        if not self.qualifies(first):
            outcome = ReferralStatus.INELIGIBLE
        elif not has_use:
            outcome = ReferralStatus.CAPPED
        elif retained_value(first) < self.terms.min_purchase:
            outcome = ReferralStatus.REVERSED
        else:
            outcome = ReferralStatus.REWARDED
        standing = self.status is ReferralStatus.REWARDED
        if self.payment_id != first.id:
            self.payment_id, self.decided_at = first.id, now
        self.status = outcome
        if standing and outcome is not ReferralStatus.REWARDED:
            self.reversals += 1
            self.reversed_at = now
            return BonusMove.TAKE_BACK
        if outcome is ReferralStatus.REWARDED and not standing:
            self.reversed_at = None
            return BonusMove.GRANT
        return None


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


def bonus_postings(
    referral: Referral, refills: tuple[tuple[Allocation, ...], tuple[Allocation, ...]] = ((), ())
) -> tuple[Posting, Posting]:
    """The referred user's and the referrer's bonus.

    The first grant is keyed once per referred user; a grant after the n-th reversal is
    keyed as the n-th reinstatement and gives back to the lots that reversal took from
    (``refills``, one per side).
    """
    bonus = referral.terms.bonus_credits
    return (
        _grant(referral.user_id, referral, "referred", bonus, refills[0]),
        _grant(referral.referrer_id, referral, "referrer", bonus, refills[1]),
    )


def reversal_postings(
    referral: Referral, referred_lot: int | None, referrer_lot: int | None
) -> tuple[Posting, Posting]:
    """Take both bonuses back (the ``referral.reversals``-th time), each from its own lot
    first; a balance may go into debt."""
    bonus = referral.terms.bonus_credits
    return (
        _reversal(referral.user_id, referral, "referred", -bonus, referred_lot),
        _reversal(referral.referrer_id, referral, "referrer", -bonus, referrer_lot),
    )


def bonus_key(referral: Referral, side: str) -> str:
    """The key of one side's first bonus (``SIDES``): once per referred user."""
    return f"referral:{referral.user_id}:{side}"


def reversal_key(referral: Referral, side: str, n: int) -> str:
    """The key of the ``n``-th reversal of one side's bonus (the first keeps its old form)."""
    suffix = "" if n <= 1 else f":{n}"
    return f"{bonus_key(referral, side)}:reversal{suffix}"


def _grant(
    user_id: str, referral: Referral, side: str, credits: int, refills: tuple[Allocation, ...]
) -> Posting:
    n = referral.reversals
    key = bonus_key(referral, side) + (f":reinstated:{n}" if n else "")
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.REFERRAL_BONUS,
        reference_type="referral",
        reference_id=referral.user_id,
        idempotency_key=key,
        refills=refills,
    )


def _reversal(
    user_id: str, referral: Referral, side: str, credits: int, lot: int | None
) -> Posting:
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.BONUS_REVERSAL,
        reference_type="referral",
        reference_id=referral.user_id,
        idempotency_key=reversal_key(referral, side, referral.reversals),
        lot_entry_id=lot,
    )
