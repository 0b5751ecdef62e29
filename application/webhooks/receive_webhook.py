"""A raw webhook delivery: verify and translate through the gateway, then handle."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventOutcome


async def receive_webhook(
    payload: bytes,
    signature: str | None,
    *,
    gateway: WebhookGateway,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> EventOutcome:
    """Raises InvalidSignature / MalformedEvent before anything is recorded."""
    event = gateway.parse_event(payload, signature)
    return await handle_gateway_event(event, uow_factory=uow_factory, gateway=gateway, clock=clock)
