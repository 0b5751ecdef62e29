"""The Payment entity and its monotonic state machine.

``pending`` -> ``completed`` | ``failed`` | ``canceled`` | ``expired``;
``completed`` -> ``partially_refunded`` -> ``refunded``; any paid status ->
``disputed`` while a dispute is open, and for good once it is lost (a won dispute
returns the payment to what its refunds make it).
``failed`` is not final: the customer may retry with another card. Once a payment
is completed it never returns to pending, failed, canceled or expired. A refund that
fails at the gateway after it was applied moves a payment back towards ``completed``
(``restore_refund``): the money never left, so the refunded total goes down.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.errors import InvalidTransition, RefundExceedsRemaining, RefundNotAllowed
from domain.events import (
    DomainEvent,
    PaymentClosed,
    PaymentCompleted,
    RefundApplied,
    RefundRestored,
)
from domain.money import Money


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class PaymentKind(enum.StrEnum):
    CHECKOUT = "checkout"
    PAYMENT_INTENT = "payment_intent"


OPEN = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED})
PAID = frozenset(
    {
        PaymentStatus.COMPLETED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.DISPUTED,
    }
)
# Statuses that no gateway event can leave, except a completion: the gateway is the
# truth about money taken, so a success reported for a payment we had marked expired
# or canceled (a stale local view) is still honoured rather than lost.
CLOSED_UNPAID = frozenset({PaymentStatus.CANCELED, PaymentStatus.EXPIRED})


@dataclass(slots=True)
class Payment:
    id: str
    user_id: str
    kind: PaymentKind
    amount: int
    currency: str
    credits: int
    status: PaymentStatus
    created_at: datetime
    description: str | None = None
    package_id: str | None = None
    stripe_session_id: str | None = None
    stripe_payment_intent_id: str | None = None
    checkout_url: str | None = None
    expires_at: datetime | None = None
    completed_at: datetime | None = None
    failure_reason: str | None = None
    amount_refunded: int = 0
    credits_reversed: int = 0
    # What a lost dispute took back; refunds never reverse these credits again.
    credits_disputed: int = 0
    client_key: str | None = None
    client_fingerprint: str | None = None
    updated_at: datetime | None = None
    # What this instance changed, for the unit of work to publish; never stored.
    events: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    def __copy__(self) -> Payment:
        """A copy starts with no events: they are the changes of the instance that made them."""
        return replace(self)

    @property
    def price(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def is_paid(self) -> bool:
        return self.status in PAID

    def matches(self, amount: int | None, currency: str | None) -> bool:
        """Whether the gateway's reported amount and currency are what we asked for."""
        return amount == self.amount and (currency or "").lower() == self.currency

    def complete(self, now: datetime) -> bool:
        """Mark paid. Returns False when it already was (the caller grants nothing)."""
        if self.status in PAID:
            return False
        self.status = PaymentStatus.COMPLETED
        self.completed_at = now
        self.failure_reason = None
        self.updated_at = now
        self.events.append(self.completion())
        return True

    def completion(self) -> PaymentCompleted:
        """The event of this payment's completion (at ``completed_at``)."""
        if self.completed_at is None:
            raise ValueError(f"payment {self.id} is not completed")
        return PaymentCompleted(
            user_id=self.user_id,
            occurred_at=self.completed_at,
            payment_id=self.id,
            amount=self.amount,
            currency=self.currency,
            credits=self.credits,
        )

    def fail(self, reason: str, now: datetime) -> bool:
        """Record a failed attempt; ignored once paid (a late event).

        A decline that arrives after the session expired or was canceled still leaves
        its reason (the status stays closed), so the final state does not depend on
        which of the two events was delivered first.
        """
        if self.status in CLOSED_UNPAID and self.failure_reason is None:
            self.failure_reason = reason
            self.updated_at = now
            self._closed(now)
            return True
        if self.status not in OPEN:
            return False
        self.status = PaymentStatus.FAILED
        self.failure_reason = reason
        self.updated_at = now
        self._closed(now)
        return True

    def cancel(self, reason: str | None, now: datetime) -> bool:
        return self._close(PaymentStatus.CANCELED, reason, now)

    def expire(self, now: datetime) -> bool:
        return self._close(PaymentStatus.EXPIRED, None, now)

    def _close(self, status: PaymentStatus, reason: str | None, now: datetime) -> bool:
        if self.status not in OPEN:
            return False
        self.status = status
        if reason:
            self.failure_reason = reason
        self.updated_at = now
        self._closed(now)
        return True

    def _closed(self, now: datetime) -> None:
        self.events.append(
            PaymentClosed(
                user_id=self.user_id,
                occurred_at=now,
                payment_id=self.id,
                status=self.status.value,
                reason=self.failure_reason,
            )
        )

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.amount_refunded

    def check_refund(self, amount: int) -> None:
        """Raise unless ``amount`` may be refunded now (admin-initiated refunds).

        A disputed payment is not refunded: the dispute decides where its money goes.
        """
        if self.status not in PAID or self.status is PaymentStatus.DISPUTED:
            raise RefundNotAllowed(f"payment {self.id} is {self.status}, not refundable")
        if amount <= 0:
            raise RefundNotAllowed("refund amount must be positive")
        if amount > self.refundable_amount:
            raise RefundExceedsRemaining(
                f"refund of {amount} exceeds the {self.refundable_amount} that remains"
            )

    def credits_to_reverse(self, amount: int) -> int:
        """What ``record_refund`` of ``amount`` would reverse, changing nothing.

        The refund log is told this number before the refund is recorded, so that a
        refund id seen before can be turned away with the payment left as it was.
        """
        return self._refund_target(amount) - self.credits_reversed

    def record_refund(self, amount: int, now: datetime, *, refund_id: str) -> int:
        """Apply refund ``refund_id`` the gateway made; returns the credits it reverses.

        Reversal is proportional and computed on cumulative totals, so any split of
        refunds reverses exactly ``credits`` once the whole amount is refunded.
        """
        target = self._refund_target(amount)
        if amount <= 0:
            return 0
        reversed_now = target - self.credits_reversed
        self.amount_refunded = min(self.amount, self.amount_refunded + amount)
        self.credits_reversed = target
        self._settle_refund_status()
        self.updated_at = now
        self.events.append(
            RefundApplied(
                user_id=self.user_id,
                occurred_at=now,
                payment_id=self.id,
                refund_id=refund_id,
                amount=amount,
                credits_reversed=reversed_now,
                amount_refunded=self.amount_refunded,
            )
        )
        return reversed_now

    def _refund_target(self, amount: int) -> int:
        """``credits_reversed`` once ``amount`` more is refunded."""
        if self.status not in PAID:
            raise InvalidTransition(f"payment {self.id} is {self.status}; nothing to refund")
        if amount <= 0:
            return self.credits_reversed
        refunded = min(self.amount, self.amount_refunded + amount)
        # Credits a lost dispute took back are never reversed a second time.
        target = min(self.credits * refunded // self.amount, self.credits - self.credits_disputed)
        return max(self.credits_reversed, target)

    def restore_refund(self, still_refunded: int, now: datetime, *, refund_id: str) -> int:
        """Undo refund ``refund_id`` that failed at the gateway; returns the credits to give back.

        The money stayed with the merchant, so the payment goes back to where the
        refunds that still stand (``still_refunded``, their cumulative amount) leave it.
        Rebuilding from that total rather than subtracting the failed refund's own
        reversal keeps the rule ``credits_reversed == credits * refunded // amount``:
        the state depends on which refunds stand, never on the order they arrived in,
        and a later refund can never compute a negative reversal from rounding left over.
        """
        if self.status not in PAID:
            raise InvalidTransition(f"payment {self.id} is {self.status}; nothing to restore")
        refunded = min(self.amount_refunded, self.amount, max(0, still_refunded))
        target = min(self.credits_reversed, self.credits * refunded // self.amount)
        restored = self.credits_reversed - target
        self.amount_refunded = refunded
        self.credits_reversed = target
        self._settle_refund_status()
        self.updated_at = now
        self.events.append(
            RefundRestored(
                user_id=self.user_id,
                occurred_at=now,
                payment_id=self.id,
                refund_id=refund_id,
                credits_restored=restored,
                amount_refunded=refunded,
            )
        )
        return restored

    def open_dispute(self, now: datetime) -> bool:
        """A dispute opened: the payment is ``disputed`` until it is won."""
        if self.status not in PAID or self.status is PaymentStatus.DISPUTED:
            return False
        self.status = PaymentStatus.DISPUTED
        self.updated_at = now
        return True

    def win_dispute(self, now: datetime) -> None:
        """The money stays: the payment is again what its refunds make it."""
        if self.status is PaymentStatus.DISPUTED and self.credits_disputed == 0:
            self.status = PaymentStatus.COMPLETED
            self._settle_refund_status()
            self.updated_at = now

    def lose_dispute(self, now: datetime) -> int:
        """The money went back: every credit not yet reversed is taken back, once.

        Returns the credits to reverse now (0 if lost before). The payment stays
        ``disputed`` for good.
        """
        if self.credits_disputed > 0 or self.status not in PAID:
            return 0
        self.status = PaymentStatus.DISPUTED
        self.credits_disputed = self.credits - self.credits_reversed
        self.updated_at = now
        return self.credits_disputed

    def _settle_refund_status(self) -> None:
        """The status the refunded total implies; a disputed payment stays disputed."""
        if self.status is PaymentStatus.DISPUTED:
            return
        if self.amount_refunded >= self.amount:
            self.status = PaymentStatus.REFUNDED
        elif self.amount_refunded > 0:
            self.status = PaymentStatus.PARTIALLY_REFUNDED
        else:
            self.status = PaymentStatus.COMPLETED
