"""A dispute opened: the payment is ``disputed`` and what is left of its credits is held.

Any of a dispute's events opens it if it was not seen yet, so the record exists
whichever arrives first; ``created`` after the others changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from application.ids import new_id
from application.ports import UnitOfWork
from application.webhooks.events import DisputeEvent, DisputeOpened
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from application.webhooks.payment_lookup import find_payment
from domain.disputes import Dispute, DisputeStatus, dispute_hold_credits
from domain.events import DisputeChanged, HoldPlaced
from domain.holds import Hold, HoldKind
from domain.ledger import purchase_key
from domain.payment import Payment


async def on_dispute_opened(uow: UnitOfWork, event: DisputeOpened, now: datetime) -> Handled:
    payment = await find_payment(uow, event.payment)
    if payment is None or not payment.is_paid:
        return NOT_OURS
    if await uow.disputes.get(event.dispute_id, for_update=True) is not None:
        return Handled(EventOutcome.NO_CHANGE, payment.id)
    await open_dispute(uow, event, payment, now)
    return Handled(EventOutcome.UPDATED, payment.id)


async def open_dispute(
    uow: UnitOfWork, event: DisputeEvent, payment: Payment, now: datetime
) -> Dispute:
    """Record the dispute, mark the payment and hold its unspent credits."""
    if payment.open_dispute(now):
        await uow.payments.save(payment)
    opened = await uow.spending.open(payment.user_id, [], now)
    lot = await uow.lots.lot_for_key(purchase_key(payment.id))
    available = 0 if opened is None else opened.account.available
    credits = dispute_hold_credits(0 if lot is None else lot.remaining, available)
    dispute = Dispute(
        id=event.dispute_id,
        payment_id=payment.id,
        user_id=payment.user_id,
        status=DisputeStatus.OPEN,
        created_at=now,
        updated_at=now,
        credits_held=credits,
    )
    await uow.disputes.add(dispute)
    if credits and await uow.spending.reserve(payment.user_id, credits, now) is not None:
        hold = Hold(
            id=new_id("hold"),
            user_id=payment.user_id,
            credits=credits,
            kind=HoldKind.DISPUTE,
            idempotency_key=f"dispute:{dispute.id}",
            created_at=now,
            expires_at=None,
            reference_id=dispute.id,
        )
        await uow.holds.add(hold)
        uow.record(
            HoldPlaced(
                user_id=hold.user_id,
                occurred_at=now,
                hold_id=hold.id,
                credits=credits,
                hold_kind=hold.kind.value,
                expires_at=None,
            )
        )
    record_change(uow, dispute, "open", now)
    return dispute


def record_change(uow: UnitOfWork, dispute: Dispute, status: str, now: datetime) -> None:
    uow.record(
        DisputeChanged(
            user_id=dispute.user_id,
            occurred_at=now,
            dispute_id=dispute.id,
            payment_id=dispute.payment_id,
            status=status,
            credits_held=dispute.credits_held,
            credits_reversed=dispute.credits_reversed,
        )
    )
