"""What the merchant (or time) does at the sandbox: expire, cancel and refund.

Each function mutates the state and returns the events Stripe would send for it.
"""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox import events
from adapters.sandbox.records import IntentRecord, Outcome, RefundRecord, SessionRecord, new_id
from adapters.sandbox.state import SandboxState, string_map, timestamp
from adapters.stripe import params as stripe_params
from application.purchases.gateway import CheckoutStatus, IntentStatus
from application.refunds.gateway import RefundRequest
from domain.errors import GatewayRejected


def expire(state: SandboxState, session_id: str, now: datetime) -> Outcome:
    """Only an open session expires; its PaymentIntent is canceled without an event.

    Stripe sends ``checkout.session.expired`` alone, so a payment never receives two
    competing "closed" events for one expiry.
    """
    session = state.session(session_id)
    check_open(session)
    session.status = CheckoutStatus.EXPIRED
    intent = state.intents[session.intent_id]
    intent.status, intent.cancellation_reason = IntentStatus.CANCELED, "abandoned"
    event = state.emit("checkout.session.expired", events.session_object(session), now)
    return Outcome("expired", (event,), "This checkout session has expired.")


def cancel_intent(state: SandboxState, intent_id: str, now: datetime) -> Outcome:
    intent = state.intent(intent_id)
    check_standalone(intent)
    if intent.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
        raise GatewayRejected(
            f"payment intent {intent.id} is {intent.status.value} and cannot be canceled",
            code="payment_intent_unexpected_state",
        )
    intent.status, intent.cancellation_reason = IntentStatus.CANCELED, "abandoned"
    event = state.emit("payment_intent.canceled", events.intent_object(intent), now)
    return Outcome("canceled", (event,), "The payment was canceled.")


def refund(
    state: SandboxState, request: RefundRequest, now: datetime
) -> tuple[RefundRecord, Outcome]:
    """A refund of what remains at most; a replayed key returns it without new events."""
    intent = state.intent(request.payment_intent_id)
    known = state.replay(request.idempotency_key, request)
    if known is not None:
        return next(r for r in intent.refunds if r.id == known), Outcome("succeeded")
    _check_refundable(intent, request.amount)
    params = stripe_params.refund_params(request)
    record = RefundRecord(
        id=new_id("re"),
        intent_id=intent.id,
        charge_id=intent.charge_id or "",
        amount=request.amount,
        currency=intent.currency,
        reason=params.get("reason"),
        metadata=string_map(params.get("metadata")),
        created=timestamp(now),
    )
    intent.refunds.append(record)
    state.remember(request.idempotency_key, request, record.id)
    produced = (
        state.emit("charge.refunded", events.charge_object(intent), now),
        state.emit("refund.created", events.refund_object(record), now),
    )
    return record, Outcome("succeeded", produced)


def check_open(session: SessionRecord) -> None:
    if session.status is not CheckoutStatus.OPEN:
        raise GatewayRejected(
            f"checkout session {session.id} is {session.status.value}",
            code=f"checkout_session_{session.status.value}",
        )


def check_standalone(intent: IntentRecord) -> None:
    """As on Stripe, a Checkout's PaymentIntent is driven through its session only."""
    if intent.session_id is not None:
        raise GatewayRejected(
            f"payment intent {intent.id} belongs to checkout session {intent.session_id}",
            code="intent_belongs_to_checkout",
        )


def _check_refundable(intent: IntentRecord, amount: int) -> None:
    if intent.status is not IntentStatus.SUCCEEDED:
        raise GatewayRejected(
            f"payment intent {intent.id} has no successful charge", code="charge_not_paid"
        )
    remaining = intent.amount_received - intent.amount_refunded
    if remaining == 0:
        raise GatewayRejected(
            f"charge {intent.charge_id} is already fully refunded", code="charge_already_refunded"
        )
    if amount <= 0:
        raise GatewayRejected("a refund amount must be positive", code="invalid_amount")
    if amount > remaining:
        raise GatewayRejected(
            f"refund of {amount} exceeds the {remaining} not yet refunded",
            code="refund_exceeds_remaining",
        )
