"""The ports the use cases need, phrased in creditline's words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar, runtime_checkable

from application.gateway import (
    CheckoutCreated,
    CheckoutRequest,
    CheckoutState,
    GatewayEvent,
    GatewayRefund,
    PaymentIntentRequest,
    PaymentIntentState,
    RefundRequest,
)
from domain.ledger import Account, BalanceMismatch, LedgerEntry, Posting
from domain.payment import Payment
from domain.user import ApiKey, User


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@runtime_checkable
class PaymentGateway(Protocol):
    """A payment provider. Every create call carries our idempotency key."""

    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated: ...

    async def get_checkout(self, session_id: str) -> CheckoutState: ...

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState: ...

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState: ...

    async def refund(self, request: RefundRequest) -> GatewayRefund: ...

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]: ...

    async def expire_checkout(self, session_id: str) -> CheckoutState: ...

    async def cancel_payment_intent(self, intent_id: str) -> PaymentIntentState: ...

    async def list_events(self, created_after: datetime) -> Sequence[GatewayEvent]:
        """Events the gateway kept since ``created_after``, oldest first (reconciliation)."""
        ...

    def parse_event(self, payload: bytes, signature: str | None) -> GatewayEvent:
        """Verify the signature over the raw body and translate the event.

        Raises ``InvalidSignature`` or ``MalformedEvent``.
        """
        ...


class InvalidSignature(Exception):
    code = "invalid_signature"


class MalformedEvent(Exception):
    code = "malformed_event"


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

    async def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Page[Payment]:
        """Newest first; the cursor is opaque (keyset on created_at, id)."""
        ...


class LedgerRepository(Protocol):
    async def open_account(self, user_id: str) -> None: ...

    async def post(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        """Append the entry and move the cached balance atomically.

        Returns None when an entry with the same idempotency key exists ("already
        done"). Raises ``InsufficientCredits`` for a debit the balance cannot cover
        unless the posting may go negative.
        """
        ...

    async def account(self, user_id: str) -> Account | None: ...

    async def entries(self, user_id: str, limit: int, cursor: str | None) -> Page[LedgerEntry]: ...

    async def verify(self) -> Sequence[BalanceMismatch]: ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises ``EmailTaken`` when the email is registered."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def find_by_referral_code(self, code: str) -> User | None: ...

    async def add_api_key(self, key: ApiKey) -> None: ...

    async def find_api_key(self, key_hash: str) -> ApiKey | None: ...

    async def list_api_keys(self, user_id: str) -> Sequence[ApiKey]: ...

    async def revoke_api_key(self, user_id: str, key_id: str, now: datetime) -> bool: ...


class EventLog(Protocol):
    """Processed gateway events; the claim shares the transaction of its effects."""

    async def claim(self, event: GatewayEvent, received_at: datetime) -> bool:
        """Insert the event id; False when it was already recorded (a redelivery)."""
        ...

    async def set_outcome(self, event_id: str, outcome: str, detail: str | None) -> None: ...


class RefundLog(Protocol):
    """Refunds applied to payments, one row per gateway refund id."""

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


class UnitOfWork(Protocol):
    payments: PaymentRepository
    ledger: LedgerRepository
    users: UserRepository
    events: EventLog
    refunds: RefundLog

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
