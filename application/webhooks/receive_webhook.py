"""A raw webhook delivery: verify and translate through the gateway, then handle."""

from __future__ import annotations

from application.ports import Clock, PaymentGateway, UnitOfWorkFactory
from application.webhooks.handle_gateway_event import EventOutcome, handle_gateway_event


async def receive_webhook(
    payload: bytes,
    signature: str | None,
    *,
    gateway: PaymentGateway,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> EventOutcome:
    """Raises InvalidSignature / MalformedEvent before anything is recorded."""
    event = gateway.parse_event(payload, signature)
    return await handle_gateway_event(event, uow_factory=uow_factory, gateway=gateway, clock=clock)
