"""What a gateway event handler is, and what it answers.

A handler ``apply(uow, event, now)`` finds its own aggregate and changes it inside
the transaction that claims the event. Gateway I/O it needs first (listing refunds,
say) is its ``prepare`` step, run before that transaction, never inside it; it may
answer an event of another class (what it learnt makes the event unusable), which
that class's handler then applies.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from application.ports import UnitOfWork
from application.webhooks.events import GatewayEvent
from application.webhooks.gateway import WebhookGateway

E = TypeVar("E", bound=GatewayEvent)


class EventOutcome(enum.StrEnum):
    DUPLICATE = "duplicate"
    GRANTED = "granted"
    NO_CHANGE = "no_change"
    UPDATED = "updated"
    WAITING = "waiting_for_payment"
    REJECTED = "rejected_amount_mismatch"
    NOT_OURS = "ignored_unknown_object"
    UNHANDLED = "ignored_unhandled_type"
    UNUSABLE = "ignored_unusable"


class EventNotReady(Exception):
    """The event cannot be applied yet (a refund of a payment not yet seen as paid).

    Nothing is recorded, so the gateway redelivers it later, by when the payment
    event has arrived: the final state does not depend on delivery order.
    """


@dataclass(frozen=True, slots=True)
class Handled:
    """The outcome recorded with the event, and the id of what it applied to."""

    outcome: EventOutcome
    detail: str | None = None


NOT_OURS = Handled(EventOutcome.NOT_OURS)


@dataclass(frozen=True, slots=True)
class EventHandler(Generic[E]):
    apply: Callable[[UnitOfWork, E, datetime], Awaitable[Handled]]
    prepare: Callable[[E, WebhookGateway], Awaitable[GatewayEvent]] | None = None
