"""What the operator's use cases read and write, beside the unit of work's other ports.

``uow.adjustments`` keeps each adjustment's reason and serialises one admin key's
grants; ``uow.admin`` answers the operator's questions across users (searches,
filtered payments, the totals of a window). Both are part of ``UnitOfWork``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from domain.disputes import Dispute
from domain.holds import Hold
from domain.ledger import SPENT_KINDS, Account, EntryKind
from domain.payment import Payment
from domain.user import User

if TYPE_CHECKING:
    from application.ports import Page


@dataclass(frozen=True, slots=True)
class AdminAdjustment:
    """An applied adjustment: its ledger entry, by whom and why."""

    entry_id: int
    user_id: str
    admin_key_id: str
    credits: int
    reason: str
    idempotency_key: str
    balance_after: int
    created_at: datetime


class AdjustmentLog(Protocol):
    async def lock_key(self, admin_key_id: str, now: datetime) -> None:
        """Lock the admin key's row until commit (created on first use): one key's
        adjustments take turns, so its 24-hour total is read and raised as one step."""
        ...

    async def granted_since(self, admin_key_id: str, since: datetime) -> int:
        """Credits the key granted (positive adjustments) from ``since`` on."""
        ...

    async def add(self, adjustment: AdminAdjustment) -> None: ...

    async def find(self, idempotency_key: str) -> AdminAdjustment | None:
        """The adjustment whose ledger entry has this key."""
        ...


@dataclass(frozen=True, slots=True)
class Window:
    """``start <= t < end``, timezone-aware."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    status: str | None = None
    user_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserRow:
    user: User
    account: Account


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """Money of one currency in a window, in minor units: paid (completed in it),
    refunded (refunds created in it, not failed), disputed (lost to disputes in it,
    see ``AdminQueries.money``); net is what stays."""

    currency: str
    gross: int
    refunded: int
    disputed: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunded - self.disputed


@dataclass(frozen=True, slots=True)
class StatusTotals:
    status: str
    currency: str
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class KindTotals:
    """Ledger entries of one kind in a window: credits added and removed (positive)."""

    kind: EntryKind
    added: int
    removed: int


@dataclass(frozen=True, slots=True)
class Outstanding:
    """Per-user balances at a moment, summed from the ledger: what users may still
    spend (``credits``, the liability) and what they owe (``debt``)."""

    credits: int
    debt: int

    @property
    def net(self) -> int:
        return self.credits - self.debt


class Metric(enum.StrEnum):
    GROSS = "gross"
    REFUNDED = "refunded"
    CREDITS_GRANTED = "credits_granted"
    CREDITS_SPENT = "credits_spent"
    CREDITS_EXPIRED = "credits_expired"


# An outbox row counts as failing once a delivery attempt failed and none succeeded.
DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    event_id: str
    type: str
    user_id: str
    occurred_at: datetime
    attempts: int
    last_status: int | None


@dataclass(frozen=True, slots=True)
class FailingEventType:
    type: str
    outcome: str
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Totals:
    """Everything the summary reads, in one transaction so the parts agree."""

    money: Sequence[CurrencyTotals]
    payments_by_status: Sequence[StatusTotals]
    credits_by_kind: Sequence[KindTotals]
    opening: Outstanding
    closing: Outstanding
    webhook_outcomes: Mapping[str, int] = field(default_factory=dict)

    @property
    def credits_spent(self) -> int:
        return sum(k.removed for k in self.credits_by_kind if k.kind in SPENT_KINDS)


class AdminQueries(Protocol):
    async def users(
        self, email: str | None, q: str | None, limit: int, cursor: str | None
    ) -> Page[UserRow]:
        """Newest first; ``email`` exact, ``q`` a part of the email or a whole id."""
        ...

    async def payments(self, where: PaymentFilter, limit: int, cursor: str | None) -> Page[Payment]:
        """Newest first (keyset on created_at, id)."""
        ...

    async def money(self, window: Window) -> Sequence[CurrencyTotals]:
        """Per currency. Disputed: each payment lost to a dispute counts once, at its
        first lost dispute's last change (its closing, unless a funds event came after
        it), for the part of its amount not refunded: the gateway takes the charge back,
        and what was refunded already counts as refunded, so net never counts it twice."""
        ...

    async def payments_by_status(self, window: Window) -> Sequence[StatusTotals]:
        """Payments created in the window, by their status now."""
        ...

    async def credits_by_kind(self, window: Window) -> Sequence[KindTotals]: ...

    async def outstanding(self, at: datetime) -> Outstanding:
        """Balances summed from every entry before ``at``."""
        ...

    async def webhook_outcomes(self, window: Window) -> Mapping[str, int]:
        """Gateway events received in the window, by outcome (``received``: none yet)."""
        ...

    async def daily(self, metric: Metric, window: Window, currency: str) -> Mapping[date, int]:
        """The metric per UTC day that has any; ``currency`` for money metrics."""
        ...

    async def active_holds(self, user_id: str) -> Sequence[Hold]:
        """The user's holds not yet ended, oldest first (one past its expiry is listed
        until it is released or the expiry job ends it)."""
        ...

    async def disputes_of(self, user_id: str) -> Sequence[Dispute]:
        """The user's disputes, newest first."""
        ...

    async def failed_deliveries(self, limit: int) -> Sequence[FailedDelivery]:
        """Outbox rows whose delivery failed, newest first."""
        ...

    async def failing_event_types(
        self, since: datetime, outcomes: frozenset[str]
    ) -> Sequence[FailingEventType]:
        """Gateway event types processed since ``since`` with one of ``outcomes``."""
        ...
