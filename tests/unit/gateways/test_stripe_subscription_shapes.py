"""Stripe's subscription and invoice events, in the pinned API version's shapes.

The fixtures in ``stripe_billing/`` are recorded Stripe-shaped events written from the
API reference and changelog for the versions since 2025-03-31: periods on the
subscription's items, the invoice's subscription under ``parent.subscription_details``,
line prices under ``pricing.price_details``, prorations under
``parent.subscription_item_details``, the invoice's payment as an ``invoice_payment``,
and charges that no longer name an invoice. They are translated by the Stripe adapter,
then applied through the webhook's handlers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.memory.uow import MemoryStore
from adapters.stripe.billing import subscription_snapshot
from adapters.stripe.events import translate_event
from adapters.stripe.subscriptions import subscription_checkout_params
from application.subscriptions.gateway import SubscriptionCheckoutRequest
from application.webhooks.events import (
    InvoicePaid,
    InvoicePaymentFailed,
    RefundsReported,
    SubscriptionCheckoutCompleted,
    SubscriptionDeleted,
    SubscriptionUpdated,
)
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventOutcome
from domain.money import Money
from domain.plans import Interval, Plan
from domain.subscription import SubscriptionSnapshot, SubscriptionStatus

FIXTURES = Path(__file__).parent / "stripe_billing"
PLUS = Plan("plus", "Plus", "price_1QxPlus", Money(2000, "usd"), Interval.MONTH, 2500, 500)
PRO = Plan("pro", "Pro", "price_1QxPro", Money(4000, "usd"), Interval.MONTH, 6000)


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return loaded


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_a_subscription_reads_its_period_from_its_items() -> None:
    event = translate_event(recorded("customer.subscription.updated"))
    assert isinstance(event, SubscriptionUpdated)
    assert event.snapshot == SubscriptionSnapshot(
        subscription_id="sub_1QxBasil0001",
        customer_id="cus_QxBasil0001",
        price_id="price_1QxPlus",
        status=SubscriptionStatus.ACTIVE,
        current_period_start=at(1767268800),
        current_period_end=at(1769947200),
        cancel_at_period_end=True,
        canceled_at=at(1767300000),
    )


def test_an_ended_subscription_is_canceled() -> None:
    event = translate_event(recorded("customer.subscription.deleted"))
    assert isinstance(event, SubscriptionDeleted)
    assert event.snapshot is not None
    assert event.snapshot.status is SubscriptionStatus.CANCELED
    assert event.snapshot.canceled_at == at(1769947200)


def test_an_invoice_names_its_subscription_under_parent_and_its_prices_under_pricing() -> None:
    event = translate_event(recorded("invoice.paid.cycle"))
    assert isinstance(event, InvoicePaid)
    invoice = event.invoice
    assert (invoice.subscription_id, invoice.customer_id) == ("sub_1QxBasil0001", "cus_QxBasil0001")
    assert (invoice.billing_reason, invoice.amount_paid, invoice.currency) == (
        "subscription_cycle",
        2000,
        "usd",
    )
    assert [(line.price_id, line.amount, line.proration) for line in invoice.lines] == [
        ("price_1QxPlus", 2000, False)
    ]
    assert invoice.lines[0].period_end == at(1769947200)
    assert invoice.payment_intent_id is None  # not included: asked for before granting


def test_an_upgrade_invoice_has_proration_lines_and_names_its_payment() -> None:
    event = translate_event(recorded("invoice.paid.upgrade"))
    assert isinstance(event, InvoicePaid)
    lines = [(line.price_id, line.amount, line.proration) for line in event.invoice.lines]
    assert lines == [("price_1QxPlus", -1000, True), ("price_1QxPro", 2000, True)]
    assert event.invoice.payment_intent_id == "pi_3QxUpgrade0003"


def test_a_subscription_checkout_links_and_never_pays() -> None:
    event = translate_event(recorded("checkout.session.completed.subscription"))
    assert isinstance(event, SubscriptionCheckoutCompleted)
    assert (event.subscription_id, event.session_id) == (
        "sub_1QxBasil0001",
        "cs_test_a1QxSubscription0005",
    )


def test_a_failed_invoice_and_an_invoice_refund_translate() -> None:
    failed = translate_event(recorded("invoice.payment_failed"))
    assert isinstance(failed, InvoicePaymentFailed)
    assert failed.invoice.subscription_id == "sub_1QxBasil0001"
    refund = translate_event(recorded("charge.refunded.invoice_payment"))
    assert isinstance(refund, RefundsReported)
    assert refund.payment.intent_id == "pi_3QxUpgrade0003"


class RecordedGateway(MemoryGateway):
    """Answers ``get_subscription`` with the subscription as the recorded events left it."""

    def __init__(self, now: Any, current: SubscriptionSnapshot) -> None:
        super().__init__(now)
        self.current = current

    async def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return self.current


async def test_the_recorded_lifecycle_grants_once_per_invoice_and_reverses_refunds() -> None:
    clock = FixedClock(at(1767272400))
    store = MemoryStore()
    async with store.uow() as uow:
        await uow.ledger.open_account("user_1")
        await uow.customers.add("user_1", "cus_QxBasil0001", clock.now())
        await uow.subscriptions.record_plan(PLUS, clock.now())
        await uow.subscriptions.record_plan(PRO, clock.now())
        await uow.commit()
    current = subscription_snapshot(recorded("customer.subscription.updated")["data"]["object"])
    gateway = RecordedGateway(clock.now, current)

    async def apply(name: str) -> EventOutcome:
        event = translate_event(recorded(name))
        return await handle_gateway_event(
            event, uow_factory=store.uow_factory, gateway=gateway, clock=clock
        )

    assert await apply("checkout.session.completed.subscription") is EventOutcome.UPDATED
    assert await apply("invoice.paid.cycle") is EventOutcome.GRANTED
    assert await apply("invoice.paid.cycle") is EventOutcome.DUPLICATE
    assert await apply("invoice.paid.upgrade") is EventOutcome.GRANTED
    # The upgrade: 2500 * -1000 / 2000 + 6000 * 2000 / 4000 = 1750 credits.
    assert store.state.accounts["user_1"].balance == 2500 + 1750
    assert await apply("charge.refunded.invoice_payment") is EventOutcome.UPDATED
    assert store.state.accounts["user_1"].balance == 2500 + 1750 - 1750 * 250 // 1000
    assert await apply("invoice.payment_failed") is EventOutcome.NO_CHANGE
    gateway.current = subscription_snapshot(
        recorded("customer.subscription.deleted")["data"]["object"]
    )
    assert await apply("customer.subscription.deleted") is EventOutcome.UPDATED
    assert await apply("customer.subscription.updated") is EventOutcome.NO_CHANGE  # late
    subscription = store.state.subscriptions.subscriptions["sub_1QxBasil0001"]
    assert subscription.status is SubscriptionStatus.CANCELED


@pytest.mark.parametrize("key", ["subscription:u1:checkout:plus:k1"])
def test_checkout_parameters_carry_only_server_values(key: str) -> None:
    request = SubscriptionCheckoutRequest(
        "user_1", "cus_1", PLUS, "https://app.example.com/ok", "https://app.example.com/no",
        at(1767272400), key,
    )  # fmt: skip
    params = subscription_checkout_params(request)
    assert params["mode"] == "subscription" and params["customer"] == "cus_1"
    assert params["line_items"] == [{"price": "price_1QxPlus", "quantity": 1}]
    assert params["subscription_data"]["metadata"] == {"user_id": "user_1", "plan_id": "plus"}
    assert params["success_url"].endswith("session_id={CHECKOUT_SESSION_ID}")
