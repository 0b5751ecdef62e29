"""The port that posts an event to the product's endpoint (``OUTBOUND_WEBHOOK_URL``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Posted:
    """The endpoint's answer (``status``), or why there was none (``error``)."""

    status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """Any 2xx ends the event's delivery; anything else is tried again."""
        return self.status is not None and 200 <= self.status < 300


class OutboundSender(Protocol):
    async def post(self, body: bytes, headers: Mapping[str, str]) -> Posted:
        """POST ``body`` (JSON) with ``headers``; a timeout or a refused connection is a
        ``Posted`` with an error, not an exception."""
        ...
