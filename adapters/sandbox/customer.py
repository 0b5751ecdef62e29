"""What the customer does at the sandbox: pay a session, confirm an intent, 3-D Secure.

Each function mutates the state and returns the outcome with the events Stripe would
send, in Stripe's order. A declined attempt leaves everything open for another card.
"""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox import events
from adapters.sandbox.cards import AUTHENTICATION_FAILED, CardError, CardOutcome, SandboxCard
from adapters.sandbox.merchant import check_open, check_standalone, expire
from adapters.sandbox.records import IntentRecord, Outcome, SandboxEvent, SessionRecord, new_id
from adapters.sandbox.state import SandboxState
from application.purchases.gateway import CheckoutStatus, IntentStatus
from domain.errors import GatewayRejected

_CONFIRMABLE = frozenset(
    {
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        IntentStatus.REQUIRES_CONFIRMATION,
        IntentStatus.REQUIRES_ACTION,
    }
)


class CheckoutLapsed(GatewayRejected):
    """A session was used after its ``expires_at``, so it expired there and then.

    Stripe expires sessions on its own clock; the sandbox has no timer, so it expires
    them when next touched. The ``checkout.session.expired`` event rides on the error
    so that the gateway can still deliver it.
    """

    def __init__(self, session_id: str, produced: tuple[SandboxEvent, ...]) -> None:
        super().__init__(
            f"checkout session {session_id} is expired", code="checkout_session_expired"
        )
        self.events = produced


def pay_checkout(state: SandboxState, session_id: str, card: SandboxCard, now: datetime) -> Outcome:
    session = _payable(state, session_id, now)
    return _confirm(state, state.intents[session.intent_id], card, now)


def confirm_intent(
    state: SandboxState, intent_id: str, card: SandboxCard, now: datetime
) -> Outcome:
    intent = state.intent(intent_id)
    check_standalone(intent)
    return _confirm(state, intent, card, now)


def authenticate(state: SandboxState, object_id: str, succeed: bool, now: datetime) -> Outcome:
    """Finish 3-D Secure for a session (``cs_test_...``) or a PaymentIntent id."""
    if object_id in state.sessions:
        intent = state.intents[_payable(state, object_id, now).intent_id]
    else:
        intent = state.intent(object_id)
    if intent.status is not IntentStatus.REQUIRES_ACTION:
        raise GatewayRejected(
            f"payment intent {intent.id} is not waiting for authentication",
            code="authentication_not_required",
        )
    if succeed:
        return _succeed(state, intent, now)
    return _fail(state, intent, AUTHENTICATION_FAILED, now)


def _payable(state: SandboxState, session_id: str, now: datetime) -> SessionRecord:
    session = state.session(session_id)
    check_open(session)
    if now >= session.expires_at:
        raise CheckoutLapsed(session_id, expire(state, session_id, now).events)
    return session


def _confirm(
    state: SandboxState, intent: IntentRecord, card: SandboxCard, now: datetime
) -> Outcome:
    if intent.status not in _CONFIRMABLE:
        raise GatewayRejected(
            f"payment intent {intent.id} is {intent.status.value} and cannot be confirmed",
            code="payment_intent_unexpected_state",
        )
    if card.outcome is CardOutcome.SUCCEEDS:
        return _succeed(state, intent, now)
    if card.outcome is CardOutcome.REQUIRES_AUTHENTICATION:
        intent.status, intent.last_error = IntentStatus.REQUIRES_ACTION, None
        return Outcome("requires_action", (), "3-D Secure authentication is required.")
    assert card.error is not None
    return _fail(state, intent, card.error, now)


def _succeed(state: SandboxState, intent: IntentRecord, now: datetime) -> Outcome:
    """The payment is reported first, then the Checkout Session it completes."""
    intent.status, intent.last_error = IntentStatus.SUCCEEDED, None
    intent.amount_received, intent.charge_id = intent.amount, new_id("ch")
    produced = [state.emit("payment_intent.succeeded", events.intent_object(intent), now)]
    if intent.session_id is not None:
        session = state.sessions[intent.session_id]
        session.status, session.paid = CheckoutStatus.COMPLETE, True
        produced.append(
            state.emit("checkout.session.completed", events.session_object(session), now)
        )
    return Outcome("succeeded", tuple(produced), "Payment succeeded")


def _fail(state: SandboxState, intent: IntentRecord, error: CardError, now: datetime) -> Outcome:
    intent.status, intent.last_error = IntentStatus.REQUIRES_PAYMENT_METHOD, error
    event = state.emit("payment_intent.payment_failed", events.intent_object(intent), now)
    return Outcome("failed", (event,), error.message)
