"""Events that can never be applied: recorded as ignored, so the gateway stops retrying.

Answering them with an error would have the gateway redeliver them for days, to the
same end; recording them makes a redelivery a duplicate.
"""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork
from application.webhooks.events import UnknownObject, Unusable
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled

log = logging.getLogger(__name__)

UNUSABLE = Handled(EventOutcome.UNUSABLE)


async def on_unusable(_uow: UnitOfWork, event: Unusable, _now: datetime) -> Handled:
    log.warning("gateway_event_unusable event_id=%s reason=%s", event.event_id, event.reason)
    return UNUSABLE


async def on_unknown_object(_uow: UnitOfWork, _event: UnknownObject, _now: datetime) -> Handled:
    return NOT_OURS
