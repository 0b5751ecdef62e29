"""Off-session charges of saved cards in the sandbox, as Stripe test mode does them.

Without the user present, ``4000 0027 6000 3184`` asks for authentication (the service
then cancels the PaymentIntent and sends the user a Checkout), ``4000 0000 0000 0341``
attached fine but every charge is declined, and ``4000 0025 0000 3155``, once saved,
needs no authentication. The other cards behave as on-session.
"""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox import customer
from adapters.sandbox.cards import AUTHENTICATION_REQUIRED, CardOutcome, SandboxCard, find_card
from adapters.sandbox.records import Outcome
from adapters.sandbox.state import SandboxState
from application.auto_top_up.ports import ChargeOutcome, OffSessionCharge
from application.purchases.gateway import IntentStatus

_ALWAYS_AUTHENTICATES = "4000002760003184"


def confirm_off_session(
    state: SandboxState, intent_id: str, card: SandboxCard, now: datetime
) -> Outcome:
    """Confirm a new intent once; a replayed key finds it already confirmed."""
    intent = state.intent(intent_id)
    if intent.status is not IntentStatus.REQUIRES_PAYMENT_METHOD or intent.last_error:
        return Outcome(intent.status.value, (), "already confirmed")
    if card.outcome is CardOutcome.REQUIRES_AUTHENTICATION:
        if card.number != _ALWAYS_AUTHENTICATES:
            card = find_card("4242424242424242")
        else:
            intent.status, intent.last_error = IntentStatus.REQUIRES_ACTION, AUTHENTICATION_REQUIRED
            return Outcome("requires_action", (), AUTHENTICATION_REQUIRED.message)
    return customer.confirm_intent(state, intent_id, card, now)


def charge_of(state: SandboxState, intent_id: str) -> OffSessionCharge:
    """The answer to the charge, the same when its key is replayed: one that asked for
    authentication still says so after the service canceled it, as Stripe replays the
    first response."""
    intent = state.intent(intent_id)
    if intent.status is IntentStatus.SUCCEEDED:
        return OffSessionCharge(ChargeOutcome.SUCCEEDED, intent_id)
    if intent.last_error == AUTHENTICATION_REQUIRED:
        return OffSessionCharge(
            ChargeOutcome.AUTHENTICATION_REQUIRED, intent_id, AUTHENTICATION_REQUIRED.code
        )
    return OffSessionCharge(ChargeOutcome.DECLINED, intent_id, intent.failure_reason())
