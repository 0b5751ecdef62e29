"""/api/admin/outbound-events: what was told to the product, and telling it again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.outbound.public_types import public_type
from application.outbox import DeliveryStatus, OutboxMessage
from application.ports import Page
from domain.events import JsonValue
from entrypoints.http.auth import requires_admin
from entrypoints.http.openapi import errors
from entrypoints.http.params import Cursor, Limit, UseCase

EventType = Annotated[
    str | None, QueryParameter(name="type", required=False, min_length=1, max_length=64)
]
UserId = Annotated[
    str | None, QueryParameter(name="user_id", required=False, min_length=1, max_length=64)
]
Status = Annotated[DeliveryStatus | None, QueryParameter(name="status", required=False)]


class OutboundEventOut(msgspec.Struct):
    """The envelope as delivered (``id, type, created, user_id, data``) and its delivery."""

    id: str
    type: str
    created: int
    user_id: str
    data: dict[str, JsonValue]
    status: DeliveryStatus
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, m: OutboxMessage) -> OutboundEventOut:
        return cls(
            id=m.event_id,
            type=public_type(m.type),
            created=int(m.occurred_at.timestamp()),
            user_id=m.user_id,
            data=dict(m.payload),
            status=m.status,
            attempts=m.attempts,
            last_status=m.last_status,
            last_error=m.last_error,
            next_attempt_at=m.next_attempt_at,
            first_attempt_at=m.first_attempt_at,
            delivered_at=m.delivered_at,
        )


class OutboundEventsPage(msgspec.Struct):
    events: list[OutboundEventOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[OutboxMessage]) -> OutboundEventsPage:
        return cls([OutboundEventOut.of(m) for m in page.items], page.next_cursor)


class OutboundEventsController(Controller):
    path = "/api/admin/outbound-events"
    tags = ["outbound events", "admin"]
    guards = [requires_admin]

    @get("/")
    async def list_all(
        self,
        list_outbound_events: NamedDependency[UseCase[Page[OutboxMessage]]],
        status: Status = None,
        event_type: EventType = None,
        user_id: UserId = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> OutboundEventsPage:
        """Newest first; ``type`` is a delivered type name (``payment.failed``)."""
        page = await list_outbound_events(status, event_type, user_id, limit, cursor)
        return OutboundEventsPage.of(page)

    @post("/{event_id:str}/redeliver", status_code=200, responses=errors(404))
    async def redeliver(
        self,
        event_id: FromPath[str],
        redeliver_outbound_event: NamedDependency[UseCase[OutboxMessage]],
    ) -> OutboundEventOut:
        """Pending again and due now, with a fresh three days of retries."""
        return OutboundEventOut.of(await redeliver_outbound_event(event_id))
