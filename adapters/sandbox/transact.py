"""One sandbox operation, one short transaction of the sandbox's store.

The operation's records are loaded first: the object it names together with those it
links to (a session and its PaymentIntent change together; a subscription comes with
its customer, its invoices and their PaymentIntents), locked when the operation may
change them; then the idempotency key it replays, if any. The
synchronous code in ``customer`` and ``merchant`` then runs on that ``SandboxState``,
and whatever it changed is written before the commit.

A sandbox answer that is an error (a declined refund, a lapsed session) still keeps
what the operation did before it, as Stripe does: the error is raised after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from adapters.sandbox import codec
from adapters.sandbox.state import SandboxState
from adapters.sandbox.store import (
    SandboxConflict,
    SandboxStore,
    SandboxTransaction,
    StoredObject,
)
from domain.errors import DomainError

T = TypeVar("T")
Operation = Callable[[SandboxState, datetime], T]

ATTEMPTS = 3  # a conflict means another process just created the key: the rerun replays it


async def transact(
    store: SandboxStore,
    public_url: str,
    operation: Operation[T],
    now: Callable[[], datetime],
    *,
    target: str | None = None,
    key: str | None = None,
    lock: bool = True,
) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await _once(store, public_url, operation, now, target, key, lock)
        except SandboxConflict:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _once(
    store: SandboxStore,
    public_url: str,
    operation: Operation[T],
    now: Callable[[], datetime],
    target: str | None,
    key: str | None,
    lock: bool,
) -> T:
    async with store.transaction() as tx:
        state = await _load(tx, public_url, target, key, lock)
        answer = _answer(operation, state, now())
        changes = state.changes()
        if changes:
            await tx.write(changes)
    return answer()


async def _load(
    tx: SandboxTransaction, public_url: str, target: str | None, key: str | None, lock: bool
) -> SandboxState:
    loaded = await _family(tx, {target} if target is not None else set(), lock)
    if key is not None and (stored_key := await tx.key(key)) is not None:
        if stored_key.object_id not in loaded:
            loaded |= await tx.read({stored_key.object_id}, lock=False)
        return SandboxState(public_url, loaded.values(), {key: stored_key})
    return SandboxState(public_url, loaded.values())


async def _family(tx: SandboxTransaction, ids: set[str], lock: bool) -> dict[str, StoredObject]:
    """Found unlocked, then locked in one read (in id order, so never a deadlock); what
    another process linked in between (a renewal's new invoice) is locked after."""
    found = await _grow(tx, {}, ids, lock=False)
    if not lock:
        return found
    locked = await tx.read(found.keys(), lock=True)
    return await _grow(tx, locked, _links(locked), lock=True)


async def _grow(
    tx: SandboxTransaction, found: dict[str, StoredObject], ids: set[str], lock: bool
) -> dict[str, StoredObject]:
    asked = set(found)
    while wanted := ids - asked:
        found = found | await tx.read(wanted, lock=lock)
        asked |= wanted
        ids = ids | _links(found)
    return found


def _links(found: dict[str, StoredObject]) -> set[str]:
    return {i for stored in found.values() for i in codec.linked_ids(codec.decode(stored))}


def _answer(operation: Operation[T], state: SandboxState, now: datetime) -> Callable[[], T]:
    """The operation's result, or its domain error, to hand out once committed."""
    try:
        result = operation(state, now)
    except DomainError as error:
        failure = error  # the ``as`` name is unbound when the except block ends

        def fail() -> T:
            raise failure

        return fail
    return lambda: result
