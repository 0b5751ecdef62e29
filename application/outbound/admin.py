"""What an operator sees of outbound delivery, and the one thing they can do about it."""

from __future__ import annotations

from application.outbound.public_types import outbox_types
from application.outbox import DeliveryStatus, OutboxFilter, OutboxMessage
from application.ports import Clock, Page, UnitOfWorkFactory
from application.queries import page_size
from domain.errors import OutboundEventNotFound


async def list_outbound_events(
    status: DeliveryStatus | None,
    public_type: str | None,
    user_id: str | None,
    limit: int | None,
    cursor: str | None,
    *,
    uow_factory: UnitOfWorkFactory,
) -> Page[OutboxMessage]:
    """Newest first; ``public_type`` is a name the product receives (``payment.failed``)."""
    types = None if public_type is None else outbox_types(public_type)
    where = OutboxFilter(status=status, types=types, user_id=user_id)
    async with uow_factory() as uow:
        return await uow.outbox.list(where, page_size(limit), cursor)


async def redeliver_outbound_event(
    event_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> OutboxMessage:
    """Deliver it again, now, with a fresh three days of retries: after the product
    fixed its endpoint (a failed event), or lost what it received (a delivered one)."""
    async with uow_factory() as uow:
        again = await uow.outbox.requeue(event_id, clock.now())
        await uow.commit()
    if again is None:
        raise OutboundEventNotFound("no such outbound event")
    return again
