"""Apply one verified gateway event, exactly once.

The event id is claimed in the same transaction as its effects (docs/failure-modes.md #2): a
redelivery finds the claim and does nothing; a failure rolls both back so the
gateway retries. Effects are decided per event kind from a table, and every one is
monotonic, so any order or number of deliveries ends in the same state.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from application.gateway import (
    EventKind,
    GatewayEvent,
    GatewayRefund,
)
from application.ports import Clock, PaymentGateway, UnitOfWork, UnitOfWorkFactory
from application.purchases.fulfil_payment import FulfilOutcome, fulfil
from application.refunds.apply_refund import apply_refunds
from domain.errors import GatewayRejected, NotFound
from domain.payment import Payment

log = logging.getLogger(__name__)


class EventOutcome(enum.StrEnum):
    DUPLICATE = "duplicate"
    GRANTED = "granted"
    NO_CHANGE = "no_change"
    UPDATED = "updated"
    WAITING = "waiting_for_payment"
    REJECTED = "rejected_amount_mismatch"
    NOT_OURS = "ignored_unknown_object"
    UNHANDLED = "ignored_unhandled_type"


class EventNotReady(Exception):
    """The event cannot be applied yet (a refund of a payment not yet seen as paid).

    Nothing is recorded, so the gateway redelivers it later, by when the payment
    event has arrived: the final state does not depend on delivery order.
    """


Handler = Callable[
    [UnitOfWork, Payment, GatewayEvent, Sequence[GatewayRefund], datetime],
    Awaitable[EventOutcome],
]


async def handle_gateway_event(
    event: GatewayEvent,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
) -> EventOutcome:
    refunds: Sequence[GatewayRefund] = event.refunds or ()
    if event.kind is EventKind.REFUNDED and event.payment_intent_id:
        # Gateway I/O happens before the transaction, never inside it.
        if event.refunds is None:
            refunds = await gateway.list_refunds(event.payment_intent_id)
        event = await _with_intent_metadata(event, gateway)
    now = clock.now()
    async with uow_factory() as uow:
        if not await uow.events.claim(event, now):
            return EventOutcome.DUPLICATE
        payment = None if event.kind is EventKind.OTHER else await find_payment(uow, event)
        if event.kind is EventKind.OTHER:
            outcome = EventOutcome.UNHANDLED
        elif payment is None:
            outcome = EventOutcome.NOT_OURS
        else:
            handler = _HANDLERS[event.kind]
            outcome = await handler(uow, payment, event, refunds, now)
        await uow.events.set_outcome(event.event_id, outcome, payment.id if payment else None)
        await uow.commit()
    log.info(
        "gateway_event event_id=%s type=%s payment_id=%s outcome=%s",
        event.event_id,
        event.type,
        payment.id if payment else None,
        outcome,
    )
    return outcome


async def _with_intent_metadata(event: GatewayEvent, gateway: PaymentGateway) -> GatewayEvent:
    """Refund objects carry no metadata of ours, and a Checkout payment learns its
    PaymentIntent id only from its paid events. A refund that overtakes those events
    would match nothing and be lost; the PaymentIntent's metadata (set by us when it
    was created) names the payment, so the refund waits for it instead."""
    if event.metadata.get("payment_id") or event.payment_intent_id is None:
        return event
    try:
        intent = await gateway.get_payment_intent(event.payment_intent_id)
    except (GatewayRejected, NotFound):
        return event  # not an object this account knows: recorded as not ours
    return replace(event, metadata={**intent.metadata, **event.metadata})


async def find_payment(uow: UnitOfWork, event: GatewayEvent) -> Payment | None:
    """Match by the gateway ids we stored, then by our metadata, and lock the row.

    A metadata match must agree with the ids already stored and with the user, so an
    object of another app on the same account is never taken for ours (docs/failure-modes.md #12).
    """
    if event.session_id:
        payment = await uow.payments.find_by_session(event.session_id, for_update=True)
        if payment is not None:
            return payment
    if event.payment_intent_id:
        payment = await uow.payments.find_by_intent(event.payment_intent_id, for_update=True)
        if payment is not None:
            return payment
    payment_id = event.metadata.get("payment_id")
    if not payment_id:
        return None
    payment = await uow.payments.get(payment_id, for_update=True)
    if payment is None or event.metadata.get("user_id") != payment.user_id:
        return None
    if _conflicts(payment.stripe_session_id, event.session_id) or _conflicts(
        payment.stripe_payment_intent_id, event.payment_intent_id
    ):
        return None
    return payment


def _conflicts(stored: str | None, reported: str | None) -> bool:
    return stored is not None and reported is not None and stored != reported


def _learn_intent(payment: Payment, event: GatewayEvent) -> bool:
    if payment.stripe_payment_intent_id is None and event.payment_intent_id:
        payment.stripe_payment_intent_id = event.payment_intent_id
        return True
    return False


async def _on_paid(
    uow: UnitOfWork,
    payment: Payment,
    event: GatewayEvent,
    _: Sequence[GatewayRefund],
    now: datetime,
) -> EventOutcome:
    learned = _learn_intent(payment, event)
    if event.kind is EventKind.CHECKOUT_COMPLETED and not event.paid:
        if learned:
            await uow.payments.save(payment)
        return EventOutcome.WAITING
    result = await fulfil(uow, payment, event.amount, event.currency, now, event.type)
    if result is FulfilOutcome.GRANTED:
        return EventOutcome.GRANTED
    if learned:
        await uow.payments.save(payment)
    if result is FulfilOutcome.AMOUNT_MISMATCH:
        return EventOutcome.REJECTED
    return EventOutcome.NO_CHANGE


async def _on_failed(
    uow: UnitOfWork,
    payment: Payment,
    event: GatewayEvent,
    _: Sequence[GatewayRefund],
    now: datetime,
) -> EventOutcome:
    learned = _learn_intent(payment, event)
    reason = event.failure_reason or "payment_failed"
    if event.kind is EventKind.PAYMENT_CANCELED:
        changed = payment.cancel(reason, now)
    elif event.kind is EventKind.CHECKOUT_EXPIRED:
        changed = payment.expire(now)
    else:
        changed = payment.fail(reason, now)
    if changed or learned:
        await uow.payments.save(payment)
    return EventOutcome.UPDATED if changed else EventOutcome.NO_CHANGE


async def _on_refunded(
    uow: UnitOfWork,
    payment: Payment,
    event: GatewayEvent,
    refunds: Sequence[GatewayRefund],
    now: datetime,
) -> EventOutcome:
    if not payment.is_paid:
        # Failed refunds wait too: their record must exist before any stale report.
        if any(r.amount > 0 for r in refunds):
            raise EventNotReady(f"refund for payment {payment.id} before it was seen paid")
        return EventOutcome.NO_CHANGE
    applied = await apply_refunds(uow, payment, refunds, now)
    return EventOutcome.UPDATED if applied else EventOutcome.NO_CHANGE


_HANDLERS: Mapping[EventKind, Handler] = {
    EventKind.CHECKOUT_COMPLETED: _on_paid,
    EventKind.CHECKOUT_ASYNC_SUCCEEDED: _on_paid,
    EventKind.PAYMENT_SUCCEEDED: _on_paid,
    EventKind.CHECKOUT_ASYNC_FAILED: _on_failed,
    EventKind.CHECKOUT_EXPIRED: _on_failed,
    EventKind.PAYMENT_FAILED: _on_failed,
    EventKind.PAYMENT_CANCELED: _on_failed,
    EventKind.REFUNDED: _on_refunded,
}
