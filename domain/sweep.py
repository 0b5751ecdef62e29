"""When an open payment has outlived its time, so the sweep settles it.

A Checkout Session carries its own ``expires_at``. A PaymentIntent never expires at
the gateway, so it is stale once it was created before the intents' cut-off (now
minus their TTL). A paid or closed payment is never stale: nothing is left to settle.
"""

from __future__ import annotations

from datetime import datetime

from domain.payment import OPEN, Payment, PaymentKind


def is_stale(payment: Payment, now: datetime, intents_created_before: datetime) -> bool:
    if payment.status not in OPEN:
        return False
    if payment.kind is PaymentKind.CHECKOUT:
        return payment.expires_at is not None and payment.expires_at <= now
    return payment.created_at <= intents_created_before
