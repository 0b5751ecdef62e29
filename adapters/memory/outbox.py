"""The outbox in memory: one message per event id, as the SQL table's primary key."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.memory.state import MemoryState, in_utc
from application.outbox import DeliveryStatus, OutboxMessage
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
