"""Same-transaction follow-ups of domain events, and the events a unit of work has yet
to publish.

The unit of work publishes just before it commits: the handlers registered for each
new event's class run in the same transaction, so a follow-up (a referral bonus after
a purchase) exists exactly when its cause does; what a handler records is published in
turn; then every event goes to the outbox at once (one statement on SQL). Handlers
that may run later, outside the transaction (telling the product), read the outbox.

Observers (``after_commit``) are told of the events once their transaction committed,
never of work that rolled back: they count (metrics) and change nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar

from application.ports import PaymentRepository, UnitOfWork
from application.webhooks.events import PaymentRef
from domain.events import DomainEvent
from domain.payment import Payment

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[UnitOfWork, E, datetime], Awaitable[None]]
"""``(uow, event, now)``: ``now`` is when the event happened, the time of its change."""
Observer = Callable[[Sequence[DomainEvent]], None]
"""Told of every event a unit of work published, after it committed."""

log = logging.getLogger(__name__)


class MessageBus:
    """A dict from event class to its handlers, which run in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler[Any]]] = {}
        self._observers: list[Observer] = []

    def on(self, event_type: type[E], *handlers: Handler[E]) -> Self:
        self._handlers.setdefault(event_type, []).extend(handlers)
        return self

    def after_commit(self, *observers: Observer) -> Self:
        self._observers.extend(observers)
        return self

    async def publish(self, uow: UnitOfWork, new: NewEvents) -> list[DomainEvent]:
        """Run each new event's handlers until none is left, then write them all to the
        outbox (one statement on SQL); returns them, for ``committed`` once the transaction is."""
        published: list[DomainEvent] = []
        while events := new.drain():
            published.extend(events)
            for event in events:
                for handler in self._handlers.get(type(event), ()):
                    await handler(uow, event, event.occurred_at)
        await uow.outbox.add_all(published)
        return published

    def committed(self, events: Sequence[DomainEvent]) -> None:
        """Tell the observers; one that fails is logged, as the change stands committed."""
        if not events:
            return
        for observer in self._observers:
            try:
                observer(events)
            except Exception:
                log.exception("event_observer_failed observer=%r", observer)


class NewEvents:
    """Events recorded on a unit of work or held by payments it saved, in that order."""

    def __init__(self) -> None:
        self._saved: dict[int, Payment] = {}  # by identity: saving twice is seen once
        self._queue: deque[DomainEvent] = deque()

    def saw(self, payment: Payment) -> None:
        self._saved[id(payment)] = payment

    def record(self, event: DomainEvent) -> None:
        self._queue.append(event)

    def drain(self) -> list[DomainEvent]:
        """Every event not yet taken, in order (handlers may record more afterwards)."""
        for payment in self._saved.values():
            self._queue.extend(payment.events)
            payment.events.clear()
        events = list(self._queue)
        self._queue.clear()
        return events


class SeenPayments:
    """A unit of work's payments repository that notes every payment added or saved.

    Only a saved aggregate's events are published: changes that were never saved did
    not happen.
    """

    def __init__(self, inner: PaymentRepository, new: NewEvents) -> None:
        self._inner = inner
        self._new = new

    async def add(self, payment: Payment) -> None:
        await self._inner.add(payment)
        self._new.saw(payment)

    async def save(self, payment: Payment) -> None:
        await self._inner.save(payment)
        self._new.saw(payment)

    async def complete_open(
        self, ref: PaymentRef, amount: int | None, currency: str | None, now: datetime
    ) -> Payment | None:
        payment = await self._inner.complete_open(ref, amount, currency, now)
        if payment is not None:
            self._new.saw(payment)
        return payment

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
