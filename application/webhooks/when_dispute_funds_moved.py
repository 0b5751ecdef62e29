"""The disputed funds were withdrawn or reinstated: recorded, no credits move.

The outcome (``when_dispute_closed``) decides the credits; these events only open
the dispute if it was not seen yet and keep what happened to the money.
"""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from application.webhooks.events import DisputeFundsReinstated, DisputeFundsWithdrawn
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.when_dispute_closed import find_dispute
from application.webhooks.when_dispute_opened import record_change


async def on_dispute_funds_moved(
    uow: UnitOfWork, event: DisputeFundsWithdrawn | DisputeFundsReinstated, now: datetime
) -> Handled:
    found = await find_dispute(uow, event, now)
    if found is None:
        return NOT_OURS
    payment, dispute = found
    withdrawn = isinstance(event, DisputeFundsWithdrawn)
    if dispute.funds_withdrawn if withdrawn else dispute.funds_reinstated:
        return Handled(EventOutcome.NO_CHANGE, payment.id)
    noted = dispute.note_funds(withdrawn, now)
    await uow.disputes.save(noted)
    record_change(uow, noted, "funds_withdrawn" if withdrawn else "funds_reinstated", now)
    return Handled(EventOutcome.UPDATED, payment.id)
