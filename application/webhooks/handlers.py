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
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    GatewayEvent,
    InvoicePaid,
    InvoicePaymentFailed,
    PaymentCanceled,
    PaymentFailed,
    PaymentSucceeded,
    RefundsReported,
    SetupCompleted,
    SubscriptionCheckoutCompleted,
    SubscriptionDeleted,
    SubscriptionUpdated,
    UnknownObject,
    Unusable,
)
from application.webhooks.handling import EventHandler
from application.webhooks.when_dispute_closed import on_dispute_closed
from application.webhooks.when_dispute_funds_moved import on_dispute_funds_moved
from application.webhooks.when_dispute_opened import on_dispute_opened
from application.webhooks.when_event_cannot_apply import on_unknown_object, on_unusable
from application.webhooks.when_invoice_paid import on_invoice_paid, read_invoice_context
from application.webhooks.when_invoice_payment_failed import on_invoice_payment_failed
from application.webhooks.when_payment_failed import (
    on_checkout_expired,
    on_payment_canceled,
    on_payment_failed,
)
from application.webhooks.when_payment_succeeded import on_checkout_completed, on_payment_succeeded
from application.webhooks.when_refunds_reported import gather_refunds, on_refunds_reported
from application.webhooks.when_setup_completed import on_setup_completed, save_default_card
from application.webhooks.when_subscription_changed import (
    fetch_subscription,
    on_subscription_changed,
)

HANDLERS: Mapping[type[GatewayEvent], EventHandler[Any]] = {
    PaymentSucceeded: EventHandler(on_payment_succeeded),
    CheckoutCompleted: EventHandler(on_checkout_completed),
    PaymentFailed: EventHandler(on_payment_failed),
    PaymentCanceled: EventHandler(on_payment_canceled),
    CheckoutExpired: EventHandler(on_checkout_expired),
    RefundsReported: EventHandler(on_refunds_reported, prepare=gather_refunds),
    DisputeOpened: EventHandler(on_dispute_opened),
    DisputeClosed: EventHandler(on_dispute_closed),
    DisputeFundsWithdrawn: EventHandler(on_dispute_funds_moved),
    DisputeFundsReinstated: EventHandler(on_dispute_funds_moved),
    Unusable: EventHandler(on_unusable),
    UnknownObject: EventHandler(on_unknown_object),
    SubscriptionUpdated: EventHandler(on_subscription_changed, prepare=fetch_subscription),
    SubscriptionDeleted: EventHandler(on_subscription_changed, prepare=fetch_subscription),
    SubscriptionCheckoutCompleted: EventHandler(
        on_subscription_changed, prepare=fetch_subscription
    ),
    SetupCompleted: EventHandler(on_setup_completed, prepare=save_default_card),
    InvoicePaid: EventHandler(on_invoice_paid, prepare=read_invoice_context),
    InvoicePaymentFailed: EventHandler(on_invoice_payment_failed, prepare=read_invoice_context),
}
