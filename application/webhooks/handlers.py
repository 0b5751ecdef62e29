"""Which handler applies which gateway event: the one table a new kind is added to.

An event class without an entry is recorded as unhandled. A ``prepare`` step may turn
an event into another class (refunds of an object the gateway does not know): the
handler of what it returns applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.webhooks.events import (
    CheckoutCompleted,
    CheckoutExpired,
    GatewayEvent,
    PaymentCanceled,
    PaymentFailed,
    PaymentSucceeded,
    RefundsReported,
    UnknownObject,
    Unusable,
)
from application.webhooks.handling import EventHandler
from application.webhooks.when_event_cannot_apply import on_unknown_object, on_unusable
from application.webhooks.when_payment_failed import (
    on_checkout_expired,
    on_payment_canceled,
    on_payment_failed,
)
from application.webhooks.when_payment_succeeded import on_checkout_completed, on_payment_succeeded
from application.webhooks.when_refunds_reported import gather_refunds, on_refunds_reported

HANDLERS: Mapping[type[GatewayEvent], EventHandler[Any]] = {
    PaymentSucceeded: EventHandler(on_payment_succeeded),
    CheckoutCompleted: EventHandler(on_checkout_completed),
    PaymentFailed: EventHandler(on_payment_failed),
    PaymentCanceled: EventHandler(on_payment_canceled),
    CheckoutExpired: EventHandler(on_checkout_expired),
    RefundsReported: EventHandler(on_refunds_reported, prepare=gather_refunds),
    Unusable: EventHandler(on_unusable),
    UnknownObject: EventHandler(on_unknown_object),
}
