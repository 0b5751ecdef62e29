"""The outbox in memory: one message per event id, as the SQL table's primary key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc
from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from application.outbox import (
    DeliveryOutcome,
    DeliveryStatus,
    OutboxFilter,
    OutboxMessage,
)
from application.ports import Page
from domain.events import DomainEvent


class MemoryOutbox:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, event: DomainEvent) -> bool:
        if event.event_id in self._state.outbox:
            return False
        self._state.outbox[event.event_id] = in_utc(OutboxMessage.of(event))
        return True

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            await self.add(event)

    async def pending(self, limit: int) -> Sequence[OutboxMessage]:
        waiting = (m for m in self._state.outbox.values() if m.status is DeliveryStatus.PENDING)
        return sorted(waiting, key=lambda m: (m.occurred_at, m.event_id))[:limit]

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        due = [m for m in await self.pending(len(self._state.outbox)) if _due(m, now)][:limit]
        claimed = [in_utc(replace(m, leased_until=lease_until)) for m in due]
        self._state.outbox.update((m.event_id, m) for m in claimed)
        return claimed

    async def settle(self, outcomes: Sequence[DeliveryOutcome]) -> None:
        for outcome in outcomes:
            row = self._state.outbox.get(outcome.event_id)
            if row is not None:
                self._state.outbox[row.event_id] = in_utc(_settled(row, outcome))

    async def find(self, event_id: str) -> OutboxMessage | None:
        return self._state.outbox.get(event_id)

    async def list(
        self, where: OutboxFilter, limit: int, cursor: str | None
    ) -> Page[OutboxMessage]:
        check_limit(limit)
        before = decode_time_and_id(cursor) if cursor is not None else None
        found = sorted(
            (
                m
                for m in self._state.outbox.values()
                if _matches(m, where) and (before is None or (m.occurred_at, m.event_id) < before)
            ),
            key=lambda m: (m.occurred_at, m.event_id),
            reverse=True,
        )
        items = found[:limit]
        next_cursor = None
        if len(found) > limit:
            next_cursor = encode_cursor(items[-1].occurred_at.isoformat(), items[-1].event_id)
        return Page(items, next_cursor)

    async def requeue(self, event_id: str, now: datetime) -> OutboxMessage | None:
        row = self._state.outbox.get(event_id)
        if row is None:
            return None
        again = replace(
            row,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            first_attempt_at=None,
            delivered_at=None,
        )
        self._state.outbox[event_id] = in_utc(again)
        return self._state.outbox[event_id]


def _due(message: OutboxMessage, now: datetime) -> bool:
    ready = message.next_attempt_at is None or message.next_attempt_at <= now
    free = message.leased_until is None or message.leased_until <= now
    return ready and free


def _settled(row: OutboxMessage, outcome: DeliveryOutcome) -> OutboxMessage:
    delivered = outcome.status is DeliveryStatus.DELIVERED
    return replace(
        row,
        status=outcome.status,
        attempts=row.attempts + 1,
        last_status=outcome.last_status,
        last_error=outcome.last_error,
        next_attempt_at=outcome.next_attempt_at,
        first_attempt_at=row.first_attempt_at or outcome.attempted_at,
        delivered_at=outcome.attempted_at if delivered else None,
        leased_until=None,
    )


def _matches(message: OutboxMessage, where: OutboxFilter) -> bool:
    return (
        (where.status is None or message.status is where.status)
        and (where.types is None or message.type in where.types)
        and (where.user_id is None or message.user_id == where.user_id)
    )
