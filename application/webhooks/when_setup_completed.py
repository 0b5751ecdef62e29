"""A Checkout in setup mode completed: the card it saved becomes the customer's default,
which auto top-up's off-session charges use.

The gateway holds the saved card (``GET /api/stripe/payment-methods`` and the auto
top-up worker read it there), so the change is made before the transaction and is the
same however often it is repeated; the transaction records the event against the user.
Only sessions we created, for customers we created, change anything.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.auto_top_up.cards import SetupCompletionGateway
from application.ports import UnitOfWork
from application.webhooks.events import SetupCompleted
from application.webhooks.handling import NOT_OURS, EventOutcome, Handled
from domain.errors import GatewayRejected, NotFound


async def save_default_card(
    event: SetupCompleted, gateway: SetupCompletionGateway
) -> SetupCompleted:
    if not event.ours or event.setup_intent_id is None or event.customer_id is None:
        return event
    try:
        method = await gateway.use_setup_payment_method(event.setup_intent_id, event.customer_id)
    except (NotFound, GatewayRejected):
        return event  # a SetupIntent or customer the gateway does not know: never ours
    return replace(event, payment_method_id=method)


async def on_setup_completed(uow: UnitOfWork, event: SetupCompleted, _now: datetime) -> Handled:
    if event.customer_id is None or event.payment_method_id is None:
        return NOT_OURS
    user_id = await uow.customers.user_for(event.customer_id)
    if user_id is None:
        return NOT_OURS
    return Handled(EventOutcome.UPDATED, user_id)
