"""What happened, as past-tense facts the product can be told about.

An aggregate appends its own to ``events`` (``Payment``); use cases record the rest
on the unit of work, which writes every one to the outbox in the transaction of the
change. An event's id is derived from what makes the fact unique (the ledger key of a
grant, the payment it completed, the refund it applied), so the same fact recorded
twice is one row, whichever path recorded it.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from domain.ledger import EntryKind, LedgerEntry
from domain.subscription import Subscription

if TYPE_CHECKING:
    from domain.payment import Payment  # which records these events itself

JsonValue = str | int | bool | None
# Fixed forever: changing it would give every past fact a new id.
_NAMESPACE = uuid.UUID("7c0e7a52-4f1b-5d8e-9a51-2f8e3b6d0c41")
_ENVELOPE = frozenset({"user_id", "occurred_at"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """``user_id`` is whose fact it is; ``payload`` is every other field, as JSON values."""

    type: ClassVar[str]
    user_id: str
    occurred_at: datetime

    @property
    def key(self) -> str:
        """What makes this fact unique among the facts of its type."""
        raise NotImplementedError

    @property
    def event_id(self) -> str:
        return f"evt_{uuid.uuid5(_NAMESPACE, f'{self.type}:{self.key}').hex}"

    @property
    def payload(self) -> dict[str, JsonValue]:
        return {
            f.name: _json(getattr(self, f.name)) for f in fields(self) if f.name not in _ENVELOPE
        }


def _json(value: object) -> JsonValue:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"{type(value).__name__} is not an event payload value")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsGranted(DomainEvent):
    """A ledger entry that added credits: a purchase, a bonus, a coupon, a trial, a restore."""

    type: ClassVar[str] = "credits.granted"
    credits: int
    kind: EntryKind
    reference_type: str
    reference_id: str
    entry_id: int
    balance_after: int
    expires_at: datetime | None
    idempotency_key: str

    @classmethod
    def of(cls, entry: LedgerEntry) -> CreditsGranted:
        return cls(
            user_id=entry.user_id,
            occurred_at=entry.created_at,
            credits=entry.credits,
            kind=entry.kind,
            reference_type=entry.reference_type,
            reference_id=entry.reference_id,
            entry_id=entry.id,
            balance_after=entry.balance_after,
            expires_at=entry.expires_at,
            idempotency_key=entry.idempotency_key,
        )

    @property
    def key(self) -> str:
        return self.idempotency_key


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsExpired(DomainEvent):
    """The unspent rest (``credits``) of the grant ``lot_entry_id`` expired."""

    type: ClassVar[str] = "credits.expired"
    credits: int
    lot_entry_id: int
    entry_id: int
    balance_after: int

    @classmethod
    def of(cls, entry: LedgerEntry, lot_entry_id: int) -> CreditsExpired:
        return cls(
            user_id=entry.user_id,
            occurred_at=entry.created_at,
            credits=-entry.credits,
            lot_entry_id=lot_entry_id,
            entry_id=entry.id,
            balance_after=entry.balance_after,
        )

    @property
    def key(self) -> str:
        return str(self.lot_entry_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsReversed(DomainEvent):
    """A reversal took ``credits`` back (``kind``): a refund, a lost dispute, or a
    referral bonus whose purchase was refunded; ``balance_after`` below zero is debt."""

    type: ClassVar[str] = "credits.reversed"
    credits: int
    kind: EntryKind
    reference_type: str
    reference_id: str
    entry_id: int
    balance_after: int
    idempotency_key: str

    @classmethod
    def of(cls, entry: LedgerEntry) -> CreditsReversed:
        return cls(
            user_id=entry.user_id,
            occurred_at=entry.created_at,
            credits=-entry.credits,
            kind=entry.kind,
            reference_type=entry.reference_type,
            reference_id=entry.reference_id,
            entry_id=entry.id,
            balance_after=entry.balance_after,
            idempotency_key=entry.idempotency_key,
        )

    @property
    def key(self) -> str:
        return self.idempotency_key


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentCompleted(DomainEvent):
    type: ClassVar[str] = "payment.completed"
    payment_id: str
    amount: int
    currency: str
    credits: int

    @property
    def key(self) -> str:
        return self.payment_id


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentClosed(DomainEvent):
    """A payment failed, was canceled or expired (``status``), or learned why it closed.

    ``failed`` is not final, so one payment may close more than once: the time is part
    of what makes each closing unique.
    """

    type: ClassVar[str] = "payment.closed"
    payment_id: str
    status: str
    reason: str | None

    @property
    def key(self) -> str:
        return f"{self.payment_id}:{self.status}:{self.reason}:{self.occurred_at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundApplied(DomainEvent):
    """A gateway refund reversed ``credits_reversed``; ``amount_refunded`` is the new total."""

    type: ClassVar[str] = "payment.refunded"
    payment_id: str
    refund_id: str
    amount: int
    credits_reversed: int
    amount_refunded: int

    @property
    def key(self) -> str:
        return f"{self.payment_id}:{self.refund_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundRestored(DomainEvent):
    """A refund failed at the gateway after it was applied: its credits came back."""

    type: ClassVar[str] = "payment.refund_restored"
    payment_id: str
    refund_id: str
    credits_restored: int
    amount_refunded: int

    @property
    def key(self) -> str:
        return f"{self.payment_id}:{self.refund_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralRewarded(DomainEvent):
    """The referrer (``user_id``) and the referred user each got ``bonus_credits``."""

    type: ClassVar[str] = "referral.rewarded"
    referred_user_id: str
    payment_id: str
    bonus_credits: int
    # Bonuses taken back before this grant: a referral settled again (a refund that
    # failed, a purchase opened earlier) is rewarded again, as a fact of its own.
    reversals: int = 0

    @property
    def key(self) -> str:
        suffix = f":{self.reversals}" if self.reversals else ""
        return f"{self.referred_user_id}{suffix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralReversed(DomainEvent):
    """Both bonuses were taken back: the qualifying payment was refunded under the minimum."""

    type: ClassVar[str] = "referral.reversed"
    referred_user_id: str
    payment_id: str | None
    bonus_credits: int
    # Which reversal of the bonuses this is (1 for the first).
    reversals: int = 1

    @property
    def key(self) -> str:
        suffix = f":{self.reversals}" if self.reversals > 1 else ""
        return f"{self.referred_user_id}{suffix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CouponRedeemed(DomainEvent):
    type: ClassVar[str] = "coupon.redeemed"
    coupon_id: str
    code: str
    redemption_id: str
    credits: int
    credits_expire_at: datetime | None

    @property
    def key(self) -> str:
        return f"{self.coupon_id}:{self.user_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialStarted(DomainEvent):
    type: ClassVar[str] = "trial.started"
    credits: int
    expires_at: datetime

    @property
    def key(self) -> str:
        return self.user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialConverted(DomainEvent):
    """The user's first completed purchase (``payment_id``) ended their trial."""

    type: ClassVar[str] = "trial.converted"
    payment_id: str

    @property
    def key(self) -> str:
        return self.user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionChanged(DomainEvent):
    """A subscription of the user's as the gateway reported it (``subscription_id``)."""

    type: ClassVar[str] = "subscription.updated"
    subscription_id: str
    plan_id: str | None
    status: str
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool

    @classmethod
    def of(cls, subscription: Subscription, now: datetime) -> SubscriptionChanged:
        return cls(
            user_id=subscription.user_id,
            occurred_at=now,
            subscription_id=subscription.id,
            plan_id=subscription.plan_id,
            status=subscription.status.value,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
        )

    @property
    def key(self) -> str:
        """The state itself: the same state reported twice is one fact."""
        return ":".join(
            str(part)
            for part in (
                self.subscription_id,
                self.plan_id,
                self.status,
                int(self.current_period_start.timestamp()),
                self.cancel_at_period_end,
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionCreated(SubscriptionChanged):
    type: ClassVar[str] = "subscription.created"

    @property
    def key(self) -> str:
        return self.subscription_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionCanceled(SubscriptionChanged):
    type: ClassVar[str] = "subscription.canceled"

    @property
    def key(self) -> str:
        return self.subscription_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionInvoicePaid(DomainEvent):
    """A subscription invoice was paid and granted ``credits`` (its ``credits.granted``
    fact is recorded beside it)."""

    type: ClassVar[str] = "subscription.invoice_paid"
    invoice_id: str
    subscription_id: str
    amount: int
    currency: str
    credits: int
    billing_reason: str

    @property
    def key(self) -> str:
        return self.invoice_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsDebited(DomainEvent):
    """A usage debit or a hold's capture (``kind``) spent ``credits``."""

    type: ClassVar[str] = "credits.debited"
    credits: int
    kind: EntryKind
    reference_id: str
    entry_id: int
    balance_after: int
    idempotency_key: str
    description: str | None = None

    @classmethod
    def of(cls, entry: LedgerEntry, description: str | None = None) -> CreditsDebited:
        return cls(
            user_id=entry.user_id,
            occurred_at=entry.created_at,
            credits=-entry.credits,
            kind=entry.kind,
            reference_id=entry.reference_id,
            entry_id=entry.id,
            balance_after=entry.balance_after,
            idempotency_key=entry.idempotency_key,
            description=description,
        )

    @property
    def key(self) -> str:
        return self.idempotency_key


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldPlaced(DomainEvent):
    type: ClassVar[str] = "hold.placed"
    hold_id: str
    credits: int
    hold_kind: str
    expires_at: datetime | None

    @property
    def key(self) -> str:
        return self.hold_id


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldEnded(DomainEvent):
    """A hold stopped holding: ``status`` captured (``captured`` of it spent), released
    or expired. A hold ends once, so its id is the fact's key."""

    type: ClassVar[str] = "hold.ended"
    hold_id: str
    status: str
    credits: int
    captured: int

    @property
    def key(self) -> str:
        return self.hold_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeChanged(DomainEvent):
    """A payment's dispute opened, closed (won or lost) or moved funds (``status``).

    ``credits_held`` is what the dispute keeps from being spent while open;
    ``credits_reversed`` what a lost dispute took back.
    """

    type: ClassVar[str] = "payment.dispute"
    dispute_id: str
    payment_id: str
    status: str
    credits_held: int
    credits_reversed: int

    @property
    def key(self) -> str:
        return f"{self.dispute_id}:{self.status}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeLost(DomainEvent):
    """A lost dispute took the payment's money back: its follow-ups treat it as a full
    refund (the referral bonus it qualified for is reversed)."""

    type: ClassVar[str] = "payment.dispute_lost"
    dispute_id: str
    payment_id: str

    @property
    def key(self) -> str:
        return self.dispute_id


@dataclass(frozen=True, slots=True, kw_only=True)
class LowBalance(DomainEvent):
    """Available credits fell below the user's ``threshold``; ``cause`` is the event
    (type and key) of the change that crossed it, so one crossing is one fact."""

    type: ClassVar[str] = "credits.low_balance"
    available: int
    threshold: int
    cause: str

    @property
    def key(self) -> str:
        return f"{self.user_id}:{self.cause}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Depleted(DomainEvent):
    """Nothing is left to spend."""

    type: ClassVar[str] = "credits.depleted"
    available: int
    cause: str

    @property
    def key(self) -> str:
        return f"{self.user_id}:{self.cause}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunwayLow(DomainEvent):
    """At the last seven days' rate the credits last fewer than ``alert_days`` days."""

    type: ClassVar[str] = "credits.runway_low"
    available: int
    runway_days: str
    alert_days: int
    cause: str

    @property
    def key(self) -> str:
        return f"{self.user_id}:{self.cause}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUpRequested(DomainEvent):
    """Available credits fell below the auto top-up threshold: a charge will follow."""

    type: ClassVar[str] = "auto_top_up.requested"
    top_up_id: str
    amount: int
    currency: str
    available: int

    @property
    def key(self) -> str:
        return self.top_up_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUpSucceeded(DomainEvent):
    type: ClassVar[str] = "auto_top_up.succeeded"
    top_up_id: str
    payment_id: str
    amount: int
    currency: str
    credits: int

    @classmethod
    def of(cls, top_up_id: str, payment: Payment, now: datetime) -> AutoTopUpSucceeded:
        """The top-up ``top_up_id`` was paid by ``payment`` (off-session or on its page)."""
        return cls(
            user_id=payment.user_id,
            occurred_at=now,
            top_up_id=top_up_id,
            payment_id=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            credits=payment.credits,
        )

    @property
    def key(self) -> str:
        return self.top_up_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUpActionRequired(DomainEvent):
    """The bank wants the user to authenticate the charge: they pay the top-up at ``url``
    (a hosted Checkout, payment ``payment_id``) until ``expires_at``."""

    type: ClassVar[str] = "auto_top_up.action_required"
    top_up_id: str
    payment_id: str
    url: str
    expires_at: datetime

    @property
    def key(self) -> str:
        return self.top_up_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUpFailed(DomainEvent):
    """One declined attempt; ``retry_at`` None when no retry follows."""

    type: ClassVar[str] = "auto_top_up.failed"
    top_up_id: str
    attempt: int
    error: str
    retry_at: datetime | None

    @property
    def key(self) -> str:
        return f"{self.top_up_id}:{self.attempt}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUpDisabled(DomainEvent):
    """Turned off after failures in a row, with no saved card (``top_up_id`` the last
    top-up), or when a dispute opened (``dispute_id``); the user re-enables."""

    type: ClassVar[str] = "auto_top_up.disabled"
    top_up_id: str
    reason: str
    dispute_id: str | None = None

    @property
    def key(self) -> str:
        return self.top_up_id or f"dispute:{self.dispute_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsAdjusted(DomainEvent):
    """An operator moved ``credits`` (either sign) by hand: who (``admin_key_id``) and why."""

    type: ClassVar[str] = "credits.adjusted"
    credits: int
    reason: str
    admin_key_id: str
    entry_id: int
    balance_after: int
    idempotency_key: str

    @classmethod
    def of(cls, entry: LedgerEntry, reason: str) -> CreditsAdjusted:
        return cls(
            user_id=entry.user_id,
            occurred_at=entry.created_at,
            credits=entry.credits,
            reason=reason,
            admin_key_id=entry.reference_id,
            entry_id=entry.id,
            balance_after=entry.balance_after,
            idempotency_key=entry.idempotency_key,
        )

    @property
    def key(self) -> str:
        return self.idempotency_key
