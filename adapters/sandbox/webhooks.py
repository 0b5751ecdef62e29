"""Webhooks for the sandbox: sign each event as Stripe does, hand it over, verify it.

``Deliver`` receives the raw body and its ``Stripe-Signature`` header and answers an
HTTP status, like a webhook endpoint; the app wires it to the same code as
``POST /api/stripe/webhook``. A delivery that fails is kept (for tests and for a
manual redelivery), never retried on its own: repairing lost events is the job of
reconciliation, which the sandbox must let us exercise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from adapters.sandbox.records import SandboxEvent
from adapters.stripe.events import parse_event
from adapters.stripe.signatures import sign_payload
from application.webhooks.events import GatewayEvent

Deliver = Callable[[bytes, str], Awaitable[int]]
DeliveryMode = Literal["now", "never"]
"""``now``: delivered before the call returns; ``never``: kept but lost in transit."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    event_id: str
    event_type: str
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Outbox:
    def __init__(
        self, deliver: Deliver | None, secrets: Sequence[str], now: Callable[[], datetime]
    ) -> None:
        if not secrets:
            raise ValueError("the sandbox needs a webhook secret to sign its events")
        self._deliver = deliver
        self._secret = secrets[0]
        self._now = now
        self.deliveries: list[Delivery] = []

    def sign(self, body: bytes) -> str:
        """Signed now with the first secret, as Stripe signs with the endpoint's current one."""
        return sign_payload(body, self._secret, int(self._now().timestamp()))

    async def send(self, events: Iterable[SandboxEvent], mode: DeliveryMode) -> None:
        """Deliver in order; one failed delivery does not hold back the next."""
        if mode not in ("now", "never"):
            raise ValueError(f"deliver must be 'now' or 'never', not {mode!r}")
        if mode == "never" or self._deliver is None:
            return
        for event in events:
            await self.send_one(event)

    async def send_one(self, event: SandboxEvent) -> int:
        if self._deliver is None:
            raise RuntimeError("this sandbox has no webhook endpoint to deliver to")
        error = None
        try:
            status = await self._deliver(event.body, self.sign(event.body))
        except Exception as exc:  # the endpoint crashed: Stripe would see a 500
            status, error = 500, f"{type(exc).__name__}: {exc}"
        delivery = Delivery(event.id, event.type, status, error)
        self.deliveries.append(delivery)
        if not delivery.ok:
            log.warning(
                "sandbox_delivery_failed event_id=%s type=%s status=%s error=%s",
                event.id, event.type, status, error,
            )  # fmt: skip
        return status


def parse_signed_event(
    payload: bytes, header: str | None, secrets: Sequence[str], now: datetime
) -> GatewayEvent:
    """``adapters.stripe.events.parse_event``, with the age measured on ``now``.

    The Stripe SDK measures the 300 s tolerance on the wall clock, but the sandbox signs
    with its injected clock: under a fixed test clock every event would look stale.
    """
    return parse_event(payload, header, secrets, now=now.timestamp())
