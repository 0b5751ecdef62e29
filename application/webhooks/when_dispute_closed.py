"""A dispute closed: won frees its hold; lost frees it and takes the credits back.

A lost dispute is a full refund for the ledger: every credit of the payment not
yet reversed is taken back (the purchase's own lot first, debt allowed), and its
``DisputeLost`` event reverses the referral bonus the payment qualified for.
"""

from __future__ import annotations

from datetime import datetime

from application.credits.reverse import reverse
from application.ports import UnitOfWork
from application.spending.settle_hold import end_hold
from application.webhooks.events import DisputeClosed, DisputeEvent
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.payment_lookup import find_payment
from application.webhooks.when_dispute_opened import open_dispute, record_change
from domain.disputes import Dispute
from domain.events import DisputeLost
from domain.ledger import dispute_posting, purchase_key
from domain.payment import Payment


async def on_dispute_closed(uow: UnitOfWork, event: DisputeClosed, now: datetime) -> Handled:
    found = await find_dispute(uow, event, now)
    if found is None:
        return NOT_OURS
    payment, dispute = found
    if not dispute.is_open:
        return Handled(EventOutcome.NO_CHANGE, payment.id)
    hold = await uow.holds.for_reference(dispute.id)
    if hold is not None and hold.is_active:
        await end_hold(uow, hold, hold.release(now), now)
    reversed_credits = 0
    if event.won:
        payment.win_dispute(now)
    else:
        reversed_credits = payment.lose_dispute(now)
        if reversed_credits:
            lot = await uow.lots.lot_for_key(purchase_key(payment.id))
            posting = dispute_posting(
                payment.user_id,
                payment.id,
                dispute.id,
                reversed_credits,
                None if lot is None else lot.entry_id,
            )
            await reverse(uow, posting, now)
        uow.record(
            DisputeLost(
                user_id=payment.user_id,
                occurred_at=now,
                dispute_id=dispute.id,
                payment_id=payment.id,
            )
        )
    await uow.payments.save(payment)
    closed = dispute.close(event.won, reversed_credits, now)
    await uow.disputes.save(closed)
    record_change(uow, closed, closed.status.value, now)
    return Handled(EventOutcome.UPDATED, payment.id)


async def find_dispute(
    uow: UnitOfWork, event: DisputeEvent, now: datetime
) -> tuple[Payment, Dispute] | None:
    """The payment (locked) and its dispute, opened now if this is its first event."""
    payment = await find_payment(uow, event.payment)
    if payment is None or not payment.is_paid:
        return None
    dispute = await uow.disputes.get(event.dispute_id, for_update=True)
    if dispute is None:
        dispute = await open_dispute(uow, event, payment, now)
    return payment, dispute
