"""The data of the in-memory store: plain containers, one per table.

A transaction works on ``copy()`` and publishes it on commit. The copy is shallow,
which is safe because stored values are never mutated in place: frozen values are
shared, and the mutable ``Payment``/``User`` are copied whenever they cross the
repository boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from adapters.memory.rewards_state import RewardsState
from adapters.memory.subscriptions_state import SubscriptionsState
from application.admin.ports import AdminAdjustment
from application.outbox import OutboxMessage
from application.refunds.attempts import RefundAttempt
from domain.disputes import Dispute
from domain.holds import Hold
from domain.ledger import Account, Allocation, LedgerEntry, Lot
from domain.payment import Payment
from domain.spending import StoredAnswer
from domain.user import ApiKey, User

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class ProcessedEvent:
    event_id: str
    type: str
    received_at: datetime
    livemode: bool
    outcome: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRecord:
    refund_id: str
    payment_id: str
    user_id: str
    amount: int
    currency: str
    status: str
    credits_reversed: int
    created_at: datetime


@dataclass(slots=True)
class MemoryState:
    users: dict[str, User] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    entries: dict[str, LedgerEntry] = field(default_factory=dict)  # by idempotency key
    lots: dict[int, Lot] = field(default_factory=dict)  # by the grant's entry id
    allocations: dict[int, tuple[Allocation, ...]] = field(default_factory=dict)  # by entry id
    payments: dict[str, Payment] = field(default_factory=dict)
    events: dict[str, ProcessedEvent] = field(default_factory=dict)
    refunds: dict[str, RefundRecord] = field(default_factory=dict)
    refund_attempts: dict[tuple[str, int], RefundAttempt] = field(default_factory=dict)
    subscriptions: SubscriptionsState = field(default_factory=SubscriptionsState)
    sweep_leases: dict[str, datetime] = field(default_factory=dict)  # by payment id
    rewards: RewardsState = field(default_factory=RewardsState)  # referrals, coupons, trials
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)  # by event id
    adjustments: dict[str, AdminAdjustment] = field(default_factory=dict)  # by ledger key
    admin_keys: dict[str, datetime] = field(default_factory=dict)  # last use, by key id
    holds: dict[str, Hold] = field(default_factory=dict)  # by hold id
    spend_requests: dict[tuple[str, str], StoredAnswer] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    last_entry_id: int = 0

    def copy(self) -> MemoryState:
        return MemoryState(
            users=dict(self.users),
            api_keys=dict(self.api_keys),
            accounts=dict(self.accounts),
            entries=dict(self.entries),
            lots=dict(self.lots),
            allocations=dict(self.allocations),
            payments=dict(self.payments),
            subscriptions=self.subscriptions.copy(),
            events=dict(self.events),
            refunds=dict(self.refunds),
            refund_attempts=dict(self.refund_attempts),
            sweep_leases=dict(self.sweep_leases),
            rewards=self.rewards.copy(),
            outbox=dict(self.outbox),
            adjustments=dict(self.adjustments),
            admin_keys=dict(self.admin_keys),
            holds=dict(self.holds),
            spend_requests=dict(self.spend_requests),
            disputes=dict(self.disputes),
            last_entry_id=self.last_entry_id,
        )


def utc(value: datetime) -> datetime:
    """Refuse naive datetimes and store UTC, as the SQL adapter does, so unit tests
    see what production sees."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
    return value.astimezone(UTC)


def in_utc(record: R) -> R:
    """A copy of a dataclass record with every datetime field in UTC."""
    changes = {
        f.name: utc(value)
        for f in fields(record)
        if isinstance(value := getattr(record, f.name), datetime)
    }
    return replace(record, **changes)
