"""The sandbox's store in process memory: for unit tests and single-process scripts.

One transaction at a time (an asyncio lock held from its start to its end), so its
locking is trivially right; a transaction's writes land at its end, or not at all.
The synchronous readers at the end are for tests, which inspect the fake PSP directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager

from adapters.sandbox import codec
from adapters.sandbox.records import IntentRecord, SandboxEvent, SessionRecord
from adapters.sandbox.store import Changes, SandboxConflict, StoredKey, StoredObject


class MemorySandboxStore:
    def __init__(self) -> None:
        self._objects: dict[str, StoredObject] = {}
        self._keys: dict[str, StoredKey] = {}
        self._events: list[SandboxEvent] = []
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_MemoryTransaction]:
        async with self._lock:
            transaction = _MemoryTransaction(self)
            yield transaction
            for changes in transaction.pending:
                self.apply(changes)

    async def events(self, created_from: int) -> list[SandboxEvent]:
        return [event for event in self._events if event.created >= created_from]

    async def event(self, event_id: str) -> SandboxEvent | None:
        return next((event for event in self._events if event.id == event_id), None)

    def check(self, changes: Changes) -> None:
        taken = [o.id for o in changes.created if o.id in self._objects]
        taken += [key for key in changes.keys if key in self._keys]
        if taken:
            raise SandboxConflict(f"already created: {', '.join(taken)}")

    def apply(self, changes: Changes) -> None:
        """Check every insert first, then write: nothing lands if anything conflicts."""
        self.check(changes)
        for stored in (*changes.created, *changes.updated):
            self._objects[stored.id] = stored
        self._keys.update(changes.keys)
        self._events.extend(changes.events)

    # ---- for tests ---------------------------------------------------------------------

    def sessions(self) -> list[SessionRecord]:
        return [r for r in self._records() if isinstance(r, SessionRecord)]

    def intents(self) -> list[IntentRecord]:
        return [r for r in self._records() if isinstance(r, IntentRecord)]

    def session(self, session_id: str) -> SessionRecord:
        record = codec.decode(self._objects[session_id])
        assert isinstance(record, SessionRecord)
        return record

    def intent(self, intent_id: str) -> IntentRecord:
        record = codec.decode(self._objects[intent_id])
        assert isinstance(record, IntentRecord)
        return record

    def save(self, *records: codec.Record, events: Sequence[SandboxEvent] = ()) -> None:
        """Change what the fake PSP keeps (and report it), as Stripe might behind our back."""
        updated = tuple(codec.encode(record) for record in records)
        self.apply(Changes(updated=updated, events=tuple(events)))

    def forget_keys(self) -> None:
        """Stripe keeps an idempotency key 24 hours, then forgets it."""
        self._keys.clear()

    def kept_events(self) -> list[SandboxEvent]:
        return list(self._events)

    def _records(self) -> list[codec.Record]:
        return [codec.decode(stored) for stored in self._objects.values()]


class _MemoryTransaction:
    """Reads see the store as it is; writes are checked now and land at commit."""

    def __init__(self, store: MemorySandboxStore) -> None:
        self._store = store
        self.pending: list[Changes] = []

    async def read(self, object_ids: Collection[str], *, lock: bool) -> dict[str, StoredObject]:
        found = (self._store._objects.get(object_id) for object_id in object_ids)
        return {stored.id: stored for stored in found if stored is not None}

    async def key(self, key: str) -> StoredKey | None:
        return self._store._keys.get(key)

    async def write(self, changes: Changes) -> None:
        self._store.check(changes)
        self.pending.append(changes)
