"""A raw webhook delivery: verify and translate through the gateway, then handle.

``observe(type, outcome)`` hears how each delivery ended, for metrics: the recorded
outcome, ``refused`` (bad signature or body, nothing recorded, ``type`` unknown),
``not_ready`` (to be redelivered) or ``failed`` (rolled back; the gateway retries).
"""

from __future__ import annotations

from typing import Protocol

from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventNotReady, EventOutcome

REFUSED = "refused"
NOT_READY = "not_ready"
FAILED = "failed"


class WebhookObserver(Protocol):
    def __call__(self, event_type: str | None, outcome: str) -> None: ...


def unobserved(event_type: str | None, outcome: str) -> None:
    return None


async def receive_webhook(
    payload: bytes,
    signature: str | None,
    *,
    gateway: WebhookGateway,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    observe: WebhookObserver = unobserved,
) -> EventOutcome:
    """Raises InvalidSignature / MalformedEvent before anything is recorded."""
    try:
        event = gateway.parse_event(payload, signature)
    except Exception:
        observe(None, REFUSED)
        raise
    try:
        outcome = await handle_gateway_event(
            event, uow_factory=uow_factory, gateway=gateway, clock=clock
        )
    except EventNotReady:
        observe(event.type, NOT_READY)
        raise
    except Exception:
        observe(event.type, FAILED)
        raise
    observe(event.type, outcome.value)
    return outcome
