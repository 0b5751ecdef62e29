"""Stripe Adaptive Pricing: the customer pays in their own currency, we are paid in ours.

At the pinned API version (after 2025-03-31.basil), Checkout Sessions, PaymentIntents,
charges and refunds keep ``amount``/``currency`` in the integration's currency, the one
the payment was created in; what the customer saw is under ``presentment_details``. The
adapter reads ``amount``/``currency`` only, so a refund of an adaptively priced payment
is compared in the payment's own currency and reverses like any other.
"""

from __future__ import annotations

from typing import Any

from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import App, charge_object, session_object, stripe_event

IN_EUROS = {"presentment_amount": 920, "presentment_currency": "eur"}


def refund_in_euros(payment: Payment, refund_id: str, amount: int, eur: int) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": payment.currency,
        "payment_intent": payment.stripe_payment_intent_id,
        "status": "succeeded",
        "presentment_details": {"presentment_amount": eur, "presentment_currency": "eur"},
    }


async def test_a_refund_of_an_adaptively_priced_payment_reverses_its_credits(app: App) -> None:
    payment = await app.open_checkout(1000, "usd")
    paid = session_object(payment, presentment_details=IN_EUROS)
    await app.handle(stripe_event("checkout.session.completed", paid))
    assert app.balance(payment.user_id) == 1000

    charge = charge_object(payment, None, amount_refunded=400, presentment_details=IN_EUROS)
    refunds = [refund_in_euros(payment, "re_1", 400, 368)]
    charge["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    await app.handle(stripe_event("charge.refunded", charge))

    stored = app.payment(payment.id)
    assert (stored.status, stored.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 400)
    assert app.balance(payment.user_id) == 600
    assert app.store.state.refunds["re_1"].currency == "usd"
