"""An admin refund request, recorded before the gateway is asked to refund.

The row's number makes the gateway idempotency key (``refund:<payment>:attempt:<n>``),
so every new request is a new refund at the gateway, even one repeating a refund that
failed, or running beside another of the same amount. A retry of the same request sends
the same key again, so the gateway replays instead of refunding twice: a retry with the
client's Idempotency-Key, or a key-less retry of a request whose answer was lost (the
gateway may have refunded; the only safe guess is that it did). The first answer is
stored with the row, so a keyed retry gets it back long after the gateway forgot the key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.refunds.gateway import RefundStatus

# Far longer than a gateway call can take: a request started this long ago without
# an answer died mid-way (a crash), and counts as lost.
ABANDONED_AFTER = timedelta(minutes=10)


class AttemptState(enum.StrEnum):
    STARTED = "started"  # the gateway is being asked
    LOST = "lost"  # the gateway call or what followed it failed: it may have refunded
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class RefundAttempt:
    payment_id: str
    number: int
    client_key: str | None
    requested: int | None  # the amount the client asked for; None: whatever remained
    amount: int  # the amount sent to the gateway
    reason: str | None
    started_at: datetime
    state: AttemptState = AttemptState.STARTED
    refund_id: str | None = None
    status: RefundStatus | None = None
    credits_reversed: int | None = None

    @property
    def gateway_key(self) -> str:
        return f"refund:{self.payment_id}:attempt:{self.number}"

    def same_request(self, payment_id: str, requested: int | None, reason: str | None) -> bool:
        return (self.payment_id, self.requested, self.reason) == (payment_id, requested, reason)

    def unanswered(self, now: datetime) -> bool:
        """No answer will come from the request that started it: a retry may resend it."""
        if self.state is AttemptState.STARTED:
            return now - self.started_at >= ABANDONED_AFTER
        return self.state is AttemptState.LOST

    def repeated_without_key(
        self, requested: int | None, reason: str | None, now: datetime
    ) -> bool:
        """A key-less request asking what this unanswered key-less one asked."""
        return (
            self.client_key is None
            and self.unanswered(now)
            and self.same_request(self.payment_id, requested, reason)
        )

    def lost(self) -> RefundAttempt:
        return replace(self, state=AttemptState.LOST)

    def answered(
        self, refund_id: str, status: RefundStatus, credits_reversed: int
    ) -> RefundAttempt:
        return replace(
            self,
            state=AttemptState.ANSWERED,
            refund_id=refund_id,
            status=status,
            credits_reversed=credits_reversed,
        )
