"""Where the sandbox keeps what Stripe would keep: the storage port and its value types.

The sandbox must be one sandbox for every process on a database (``serve``, its
replicas, ``batch``) and outlive restarts, so its state sits behind this port: in
memory for unit tests, in its own ``sandbox_*`` tables otherwise (``sql_store``).

A store only keeps bytes: records are encoded by ``adapters.sandbox.codec``, so both
implementations hand out fresh copies and nothing is shared by reference. One sandbox
operation is one ``transaction()``: it reads (locking what it will change, so two
processes acting on one object take turns), then writes all it changed at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from adapters.sandbox.records import SandboxEvent


class SandboxConflict(Exception):
    """Another transaction created the same object or idempotency key first: try again."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A Checkout Session or PaymentIntent, as ``codec.encode`` wrote it."""

    id: str
    kind: str
    body: bytes


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An idempotency key: the request first made with it, and the object it created."""

    request: bytes
    object_id: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What one operation wrote: new objects, changed objects, new keys, new events."""

    created: tuple[StoredObject, ...] = ()
    updated: tuple[StoredObject, ...] = ()
    keys: Mapping[str, StoredKey] = field(default_factory=dict)
    events: tuple[SandboxEvent, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.keys or self.events)


class SandboxTransaction(Protocol):
    async def read(self, object_ids: Collection[str], *, lock: bool) -> dict[str, StoredObject]:
        """The objects that exist among ``object_ids``; ``lock`` holds them to the end."""
        ...

    async def key(self, key: str) -> StoredKey | None: ...

    async def write(self, changes: Changes) -> None:
        """Raises ``SandboxConflict`` when a created object or key already exists."""
        ...


class SandboxStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[SandboxTransaction]:
        """Committed when the block ends normally, rolled back when it raises."""
        ...

    async def events(self, created_from: int) -> list[SandboxEvent]:
        """Events created at or after ``created_from`` (epoch seconds), oldest first."""
        ...

    async def event(self, event_id: str) -> SandboxEvent | None: ...
