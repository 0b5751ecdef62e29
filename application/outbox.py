"""The outbox: domain events written in the transaction of the change they describe.

A row exists exactly when its change was committed, so what the product is told
later can neither lose a change nor invent one that was rolled back. Delivery reads
pending rows and moves their delivery columns; until it exists, rows stay pending.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import DomainEvent, JsonValue


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"


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

    @classmethod
    def of(cls, event: DomainEvent) -> OutboxMessage:
        return cls(event.event_id, event.type, event.user_id, event.payload, event.occurred_at)


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
