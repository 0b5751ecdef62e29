"""What failed: outbound events that could not be delivered, and gateway event types
whose processing was refused or could not be used."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from application.admin.ports import FailedDelivery, FailingEventType
from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.handling import EventOutcome

LOOK_BACK = timedelta(days=7)
FAILED_SHOWN = 50
# Outcomes of processed gateway events that need an operator's eye.
FAILING_OUTCOMES = frozenset(
    {EventOutcome.REJECTED.value, EventOutcome.UNUSABLE.value, EventOutcome.WAITING.value}
)


async def failures(
    *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> tuple[Sequence[FailedDelivery], Sequence[FailingEventType]]:
    async with uow_factory() as uow:
        deliveries = await uow.admin.failed_deliveries(FAILED_SHOWN)
        types = await uow.admin.failing_event_types(clock.now() - LOOK_BACK, FAILING_OUTCOMES)
    return deliveries, types
