"""``StripeGateway``'s subscription calls against localstripe, in its (older) shapes.

localstripe knows customers, plans, subscriptions and their invoices: periods at the
top of the subscription as well as on its items, a line's ``plan`` instead of
``pricing.price_details.price``, an invoice's ``payment_intent`` at the top. What it
lacks (Checkout in subscription mode, ``items[].price`` updates, ``invoice.paid`` and
``/v1/invoice_payments``) is covered by the recorded current-shape fixtures
(``tests/unit/gateways/test_stripe_subscription_shapes.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from adapters.stripe.billing import gateway_invoice
from adapters.stripe.client import StripeGateway
from application.subscriptions.gateway import CustomerRequest
from application.webhooks.events import SubscriptionDeleted, SubscriptionUpdated
from domain.subscription import SubscriptionStatus


async def customer_with_card(gateway: StripeGateway, raw: stripe.StripeClient) -> str:
    key = f"customer:{uuid.uuid4().hex}"
    customer = await gateway.create_customer(CustomerRequest("user_1", "a@example.com", key))
    assert (
        await gateway.create_customer(CustomerRequest("user_1", "a@example.com", key)) == customer
    )
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = await raw.v1.payment_methods.create_async({"type": "card", "card": card})
    await raw.v1.payment_methods.attach_async(method.id, {"customer": customer})
    await raw.v1.customers.update_async(
        customer, {"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer


async def subscribed(
    gateway: StripeGateway, raw: stripe.StripeClient
) -> tuple[str, str, dict[str, Any]]:
    """A customer subscribed (at localstripe) to a new $10 monthly plan."""
    customer = await customer_with_card(gateway, raw)
    price_id = f"price_{uuid.uuid4().hex[:10]}"
    await raw.v1.plans.create_async(
        {
            "id": price_id,
            "amount": 1000,
            "currency": "usd",
            "interval": "month",
            "product": {"name": "Basic"},
        }
    )
    sub = await raw.v1.subscriptions.create_async(
        {"customer": customer, "items": [{"plan": price_id}]}
    )
    return customer, price_id, sub.to_dict()


async def test_a_subscription_reads_as_a_snapshot(
    localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
) -> None:
    customer, price_id, raw = await subscribed(localstripe_gateway, localstripe_client)
    snapshot = await localstripe_gateway.get_subscription(raw["id"])
    assert snapshot.customer_id == customer and snapshot.price_id == price_id
    assert snapshot.status is SubscriptionStatus.ACTIVE
    assert snapshot.current_period_end - snapshot.current_period_start >= timedelta(days=28)
    assert not snapshot.cancel_at_period_end


async def test_cancel_at_period_end_resume_and_cancel_now(
    localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
) -> None:
    _, _, raw = await subscribed(localstripe_gateway, localstripe_client)
    at_end = await localstripe_gateway.cancel_subscription(raw["id"], True, None)
    assert at_end.cancel_at_period_end and at_end.status is SubscriptionStatus.ACTIVE
    resumed = await localstripe_gateway.resume_subscription(raw["id"], None)
    assert not resumed.cancel_at_period_end
    ended = await localstripe_gateway.cancel_subscription(raw["id"], False, None)
    assert ended.status is SubscriptionStatus.CANCELED and ended.canceled_at is not None


async def test_its_paid_invoice_translates_with_its_subscription_price_and_payment(
    localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
) -> None:
    customer, price_id, raw = await subscribed(localstripe_gateway, localstripe_client)
    invoice = await localstripe_client.v1.invoices.retrieve_async(raw["latest_invoice"])
    translated = gateway_invoice(invoice.to_dict())
    assert translated.subscription_id == raw["id"] and translated.customer_id == customer
    assert translated.amount_paid == 1000 and translated.currency == "usd"
    assert [(line.price_id, line.amount, line.proration) for line in translated.lines] == [
        (price_id, 1000, False)
    ]
    assert translated.payment_intent_id is not None
    assert translated.payment_intent_id.startswith("pi_")


async def test_its_lifecycle_events_are_listed_as_subscription_events(
    localstripe_gateway: StripeGateway, localstripe_client: stripe.StripeClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    _, _, raw = await subscribed(localstripe_gateway, localstripe_client)
    await localstripe_gateway.cancel_subscription(raw["id"], False, None)
    mine = [
        event
        for event in await localstripe_gateway.list_events(since)
        if isinstance(event, SubscriptionUpdated | SubscriptionDeleted)
        and event.subscription_id == raw["id"]
    ]
    assert [type(event) for event in mine] == [SubscriptionUpdated, SubscriptionDeleted]
    assert mine[-1].snapshot is not None
    assert mine[-1].snapshot.status is SubscriptionStatus.CANCELED
