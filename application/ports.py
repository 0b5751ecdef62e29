"""The ports the use cases need, phrased in creditline's words, and the unit of work
that assembles the repositories: the ledger's beside its capability
(``application.credits.ports``, ``application.reconciliation.ports``), the rewards'
in ``application.rewards.ports``, the rest here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar, runtime_checkable

from application.admin.ports import AdjustmentLog, AdminQueries
from application.alerts.ports import AlertRepository
from application.auto_top_up.ports import AutoTopUpRepository
from application.credits.ports import LedgerRepository, LotRepository
from application.outbox import OutboxRepository
from application.reconciliation.ports import LedgerAudit
from application.refunds.attempts import RefundAttempt
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.rewards.ports import CouponRepository, ReferralRepository, TrialRepository
from application.spending.ports import HoldRepository, SpendingLedger, SpendRequests
from application.subscriptions.ports import CustomerRepository, SubscriptionRepository
from application.webhooks.disputes import DisputeRepository
from application.webhooks.events import GatewayEvent, PaymentRef
from domain.events import DomainEvent
from domain.payment import Payment
from domain.user import ApiKey, User


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> None: ...

    async def save(self, payment: Payment) -> None:
        """Write every mutable field of an existing payment."""
        ...

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None: ...

    async def find_by_session(
        self, session_id: str, *, for_update: bool = False
    ) -> Payment | None: ...

    async def find_by_intent(
        self, intent_id: str, *, for_update: bool = False
    ) -> Payment | None: ...

    async def find_by_client_key(self, user_id: str, client_key: str) -> Payment | None: ...

    async def complete_open(
        self,
        ref: PaymentRef,
        amount: int | None,
        currency: str | None,
        now: datetime,
    ) -> Payment | None:
        """The paid webhook's fast path: find, check, complete and save in one step.

        The payment named by ``ref.session_id`` (else ``ref.intent_id``), if it is open
        and ``Payment.matches`` the amount, is completed (``Payment.complete``), learns
        ``ref.intent_id`` when it had none, and is returned saved, with its event. None:
        nothing changed, and the caller takes the general path.
        """
        ...

    async def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Page[Payment]:
        """Newest first; the cursor is opaque (keyset on created_at, id)."""
        ...

    async def claim_stale(
        self, now: datetime, intents_created_before: datetime, lease_until: datetime, limit: int
    ) -> Sequence[Payment]:
        """Lease up to ``limit`` open payments that outlived their time (the sweep).

        Stale as ``domain.sweep.is_stale`` says: a Checkout past ``expires_at``, or a
        PaymentIntent created before ``intents_created_before``. A leased row is
        skipped until ``lease_until``, so several workers share the work without
        holding a transaction across gateway calls, and the rows of a worker that died
        come back once its lease runs out.
        """
        ...

    async def has_purchased(self, user_id: str) -> bool:
        """Whether the user has a paid payment (refunded ones count too)."""
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises ``EmailTaken`` when the email is registered."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def find_by_referral_code(self, code: str) -> User | None: ...

    async def add_api_key(self, key: ApiKey) -> None: ...

    async def find_key_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        """The unrevoked key with this hash and the user it belongs to (one statement
        on SQL); None: no such key."""
        ...

    async def count_active_api_keys(self, user_id: str) -> int:
        """Unrevoked keys, counted under a lock on the user's row: concurrent
        additions for one user queue behind it, so a cap on keys holds."""
        ...

    async def list_api_keys(self, user_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        """Oldest first, revoked keys included; the cursor is opaque (created_at, id)."""
        ...

    async def revoke_api_key(self, user_id: str, key_id: str, now: datetime) -> bool: ...


class EventLog(Protocol):
    """Processed gateway events; the claim shares the transaction of its effects."""

    async def claim(self, event: GatewayEvent, received_at: datetime) -> bool:
        """Insert the event id; False when it was already recorded (a redelivery)."""
        ...

    async def set_outcome(self, event_id: str, outcome: str, detail: str | None) -> None:
        """Record what the event did; written by the commit at the latest."""
        ...


@dataclass(frozen=True, slots=True)
class RecordedRefund:
    """A refund as the log knows it: its last status and what it reversed when applied."""

    refund_id: str
    payment_id: str
    amount: int
    status: RefundStatus
    credits_reversed: int


class RefundLog(Protocol):
    """Refunds seen for payments, one row per gateway refund id.

    A row is written the first time a refund is seen: applied (pending or succeeded),
    or already failed or canceled (then it reversed nothing, and its id keeps a stale
    report of it from reversing later).
    """

    async def add(
        self,
        refund: GatewayRefund,
        payment_id: str,
        user_id: str,
        credits_reversed: int,
        now: datetime,
    ) -> bool:
        """False when the refund id is already recorded."""
        ...

    async def credits_reversed(self, refund_id: str) -> int | None:
        """Credits the recorded refund reversed, or None if it is not recorded."""
        ...

    async def get(self, refund_id: str) -> RecordedRefund | None: ...

    async def set_status(self, refund_id: str, status: RefundStatus) -> None:
        """Record the refund's newer status (the caller decides that it is newer)."""
        ...

    async def for_payment(self, payment_id: str) -> Sequence[RecordedRefund]:
        """Every refund recorded for the payment, in no particular order."""
        ...

    async def start_attempt(self, attempt: RefundAttempt) -> bool:
        """Record an admin refund request; False when its number or client key is taken."""
        ...

    async def attempt_for_key(self, client_key: str) -> RefundAttempt | None: ...

    async def attempts(self, payment_id: str) -> Sequence[RefundAttempt]:
        """The payment's refund requests, by number."""
        ...

    async def save_attempt(self, attempt: RefundAttempt) -> None:
        """Write the request's state and answer."""
        ...

    async def drop_attempt(self, attempt: RefundAttempt) -> None:
        """Forget a request the gateway refused: it refunded nothing."""
        ...


class UnitOfWork(Protocol):
    """Every repository on one transaction. The adapters subclass this protocol, so
    the list of repositories is written here only."""

    payments: PaymentRepository
    ledger: LedgerRepository
    lots: LotRepository
    audit: LedgerAudit
    users: UserRepository
    events: EventLog
    refunds: RefundLog
    referrals: ReferralRepository
    coupons: CouponRepository
    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    trials: TrialRepository
    outbox: OutboxRepository
    adjustments: AdjustmentLog
    admin: AdminQueries
    spending: SpendingLedger
    holds: HoldRepository
    spend_requests: SpendRequests
    disputes: DisputeRepository
    alerts: AlertRepository
    auto_top_ups: AutoTopUpRepository

    def record(self, event: DomainEvent) -> None:
        """Publish ``event`` with this transaction: ``commit()`` writes it to the outbox
        and runs its same-transaction handlers, with the events of saved payments."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
