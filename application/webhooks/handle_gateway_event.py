"""Apply one verified gateway event, exactly once.

The event id is claimed in the same transaction as its effects (docs/failure-modes.md #2): a
redelivery finds the claim and does nothing; a failure rolls both back so the
gateway retries. Each event class has its handler (``handlers.py``), and every
effect is monotonic, so any order or number of deliveries ends in the same state.
"""

from __future__ import annotations

import logging

from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.events import GatewayEvent
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handlers import HANDLERS
from application.webhooks.handling import EventOutcome, Handled

log = logging.getLogger(__name__)

UNHANDLED = Handled(EventOutcome.UNHANDLED)


async def handle_gateway_event(
    event: GatewayEvent,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: WebhookGateway,
    clock: Clock,
) -> EventOutcome:
    handler = HANDLERS.get(type(event))
    if handler is not None and handler.prepare is not None:
        event = await handler.prepare(event, gateway)  # gateway I/O, never in the transaction
        handler = HANDLERS.get(type(event))
    now = clock.now()
    async with uow_factory() as uow:
        if not await uow.events.claim(event, now):
            return EventOutcome.DUPLICATE
        handled = UNHANDLED if handler is None else await handler.apply(uow, event, now)
        await uow.events.set_outcome(event.event_id, handled.outcome, handled.detail)
        await uow.commit()
    log.info(
        "gateway_event event_id=%s type=%s payment_id=%s outcome=%s",
        event.event_id,
        event.type,
        handled.detail,
        handled.outcome,
    )
    return handled.outcome
