"""A whole payment gateway: what an adapter (Stripe, sandbox, memory) implements.

Use cases ask only for the capability they use (``CheckoutGateway``,
``IntentGateway``, ``RefundGateway``, ``EventGateway``, ``SubscriptionGateway``,
beside each capability); the composition root builds one adapter and hands it to
all of them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from application.purchases.gateway import CheckoutGateway, IntentGateway
from application.refunds.gateway import RefundGateway
from application.subscriptions.gateway import SubscriptionGateway
from application.webhooks.gateway import EventGateway


@runtime_checkable
class PaymentGateway(
    CheckoutGateway, IntentGateway, RefundGateway, EventGateway, SubscriptionGateway, Protocol
):
    """Every capability at once."""
