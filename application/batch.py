"""What every batch job shares: a report, the failures it lists, and how it is steered.

Jobs work in batches and ask ``BatchControl.stop_requested`` between two of them, so
an operator's Ctrl-C (or a pod's SIGTERM) never interrupts an item half-way: every
item is settled by its own short transaction(s), each of which is idempotent, so a
crash in the middle of one leaves it for the next run to finish.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatchControl(Protocol):
    """Progress reporting and the stop request, from whatever runs the job."""

    def begin(self, total: int | None) -> None:
        """The number of items about to be worked on, when known."""
        ...

    def advance(self, items: int) -> None: ...

    @property
    def stop_requested(self) -> bool: ...


class NoControl:
    """Runs to the end and reports nowhere: for tests and for callers inside a process."""

    stop_requested = False

    def begin(self, total: int | None) -> None:
        return None

    def advance(self, items: int) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """One item the job could not settle this time; it is retried on a later run."""

    item_id: str
    error: str


@dataclass(slots=True)
class JobReport:
    """Counts by outcome, the failures, and job-specific details (drift, repairs)."""

    job: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[ItemFailure] = field(default_factory=list)
    details: list[Mapping[str, object]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, item_id: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else describe(error)
        self.failures.append(ItemFailure(item_id, text))


def describe(error: BaseException) -> str:
    """``code: message`` for domain errors (stable codes), the type name otherwise."""
    code = getattr(error, "code", None) or type(error).__name__
    return f"{code}: {error}"


async def bounded(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], concurrency: int
) -> Sequence[R | BaseException]:
    """Run ``work`` over ``items``, at most ``concurrency`` at once, results in order.

    An item's exception is returned in its place rather than cancelling its siblings:
    one gateway hiccup must not abandon the rest of a batch mid-flight.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> R:
        async with gate:
            return await work(item)

    return await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
