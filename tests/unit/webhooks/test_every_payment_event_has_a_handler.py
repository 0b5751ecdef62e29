"""The handler table covers every kind of event about a payment (an event class left out
would be recorded as unhandled, silently)."""

from __future__ import annotations

from application.webhooks import events
from application.webhooks.events import PaymentEvent
from application.webhooks.handlers import HANDLERS


def test_every_kind_of_payment_event_has_a_handler() -> None:
    kinds = {
        kind
        for kind in vars(events).values()
        if isinstance(kind, type) and issubclass(kind, PaymentEvent) and kind is not PaymentEvent
    }
    assert kinds and kinds <= set(HANDLERS)
