"""One sandbox operation, one short transaction of the sandbox's store.

The operation's records are loaded first: the object it names together with the other
half of its Checkout (a session and its PaymentIntent change together), locked when
the operation may change them; then the idempotency key it replays, if any. The
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
from adapters.sandbox.store import SandboxConflict, SandboxStore, SandboxTransaction
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
    ids = {target} if target is not None else set()
    for stored in (await tx.read(ids, lock=False)).values():
        linked = codec.linked_id(codec.decode(stored))
        if linked is not None:
            ids.add(linked)
    loaded = await tx.read(ids, lock=lock)
    if key is not None and (stored_key := await tx.key(key)) is not None:
        if stored_key.object_id not in loaded:
            loaded |= await tx.read({stored_key.object_id}, lock=False)
        return SandboxState(public_url, loaded.values(), {key: stored_key})
    return SandboxState(public_url, loaded.values())


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
