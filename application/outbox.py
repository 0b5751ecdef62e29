"""The outbox: domain events written in the transaction of the change they describe.

A row exists exactly when its change was committed, so what the product is told
later can neither lose a change nor invent one that was rolled back. Delivery
(``application.outbound``) leases due rows, posts them outside any transaction, then
settles each: delivered, tried again later, or given up (failed).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.events import DomainEvent, JsonValue

if TYPE_CHECKING:
    from application.ports import Page


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # given up after the retry window; an operator may redeliver it


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An event as the outbox holds it, with where its delivery stands."""

    event_id: str
    type: str
    user_id: str
    payload: Mapping[str, JsonValue]
    occurred_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    first_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    leased_until: datetime | None = None

    @classmethod
    def of(cls, event: DomainEvent) -> OutboxMessage:
        return cls(event.event_id, event.type, event.user_id, event.payload, event.occurred_at)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one attempt came to; ``attempts`` grows by one and the lease ends with it.

    ``status`` is DELIVERED, PENDING (tried again at ``next_attempt_at``) or FAILED.
    """

    event_id: str
    status: DeliveryStatus
    attempted_at: datetime
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxFilter:
    """Rows to list; None matches anything. ``types`` are the outbox's own type names."""

    status: DeliveryStatus | None = None
    types: tuple[str, ...] | None = None
    user_id: str | None = None


class OutboxRepository(Protocol):
    async def add(self, event: DomainEvent) -> bool:
        """Write the event as a pending row; False when its id is already there.

        Ids are derived from the fact, so a fact recorded twice (two transactions that
        both saw it happen) is one row, and neither transaction fails for it.
        """
        ...

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        """``add`` each event, in one statement where the adapter can (a unit of work's commit)."""
        ...

    async def pending(self, limit: int) -> Sequence[OutboxMessage]:
        """Up to ``limit`` rows not yet delivered, oldest first (by time, then id)."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Lease up to ``limit`` pending rows due at ``now`` (never tried, or their next
        attempt has come) and not leased, oldest first, until ``lease_until``.

        A leased row is skipped by every other claim until its lease ends or it is
        settled, so several workers never post the same event at the same time; rows
        another claim is taking right now are skipped, not waited for.
        """
        ...

    async def settle(self, outcomes: Sequence[DeliveryOutcome]) -> None:
        """Record each attempt on its row and end its lease."""
        ...

    async def find(self, event_id: str) -> OutboxMessage | None: ...

    async def list(
        self, where: OutboxFilter, limit: int, cursor: str | None
    ) -> Page[OutboxMessage]:
        """Newest first; the cursor is opaque (keyset on occurred_at, event_id)."""
        ...

    async def requeue(self, event_id: str, now: datetime) -> OutboxMessage | None:
        """Make the row pending and due at ``now``, with a fresh retry window (attempts
        back to 0). A lease in force stays: an attempt in flight is not doubled."""
        ...
