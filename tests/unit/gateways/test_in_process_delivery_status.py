"""The sandbox's in-process delivery answers with the status the webhook route sends.

The sandbox keeps events whose delivery failed for redelivery, exactly as Stripe
does, so the status must tell a permanent refusal (400) from a transient one (5xx).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.uow import MemoryStore
from application.webhooks.gateway import InvalidSignature, MalformedEvent
from application.webhooks.handling import EventNotReady
from domain.errors import NotFound
from entrypoints.http.webhook import InProcessDelivery


class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)


class _Gateway:
    """Raises ``error`` where the real gateway verifies and translates the event."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def parse_event(self, payload: bytes, signature: str | None) -> object:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidSignature("bad"), 400),
        (MalformedEvent("bad"), 400),
        (EventNotReady("later"), 503),
        (NotFound("gone"), 404),
        (RuntimeError("bug"), 500),
    ],
)
async def test_delivery_answers_as_the_route_would(error: Exception, status: int) -> None:
    delivery = InProcessDelivery(MemoryStore().uow_factory, _Clock())
    delivery.gateway = _Gateway(error)  # type: ignore[assignment]
    assert await delivery(b"{}", "t=1,v1=00") == status
