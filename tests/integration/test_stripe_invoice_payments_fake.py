"""Which invoice a PaymentIntent paid, asked of the recording fake in Stripe's shapes.

At the pinned API version PaymentIntents and charges do not name their invoice; the
InvoicePayment does. The fake answers with a recorded ``invoice_payment`` and the
recorded ``invoice.paid`` invoice (``parent.subscription_details``) when expanded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.stripe.client import PINNED_API_VERSION, StripeGateway
from application.subscriptions.gateway import InvoiceRef
from domain.errors import GatewayUnavailable
from tests.integration.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_51CreditlineSecretKeyThatMustNeverLeak"
RECORDED = Path(__file__).parent / "recorded"
BILLING = Path(__file__).parents[1] / "unit" / "gateways" / "stripe_billing"


@pytest.fixture
async def gateway(fake_stripe: FakeStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(SECRET_KEY, ["whsec_test"], api_base=fake_stripe.base_url)
    yield gateway
    await gateway.aclose()


@pytest.fixture
def recorded(fake_stripe: FakeStripe) -> FakeStripe:
    invoice = json.loads((BILLING / "invoice.paid.cycle.json").read_text())["data"]["object"]
    fake_stripe.invoices[invoice["id"]] = invoice
    fake_stripe.invoice_payments.append(json.loads((RECORDED / "invoice_payment.json").read_text()))
    return fake_stripe


async def test_the_invoice_payment_names_the_invoice_and_its_subscription(
    gateway: StripeGateway, recorded: FakeStripe
) -> None:
    found = await gateway.invoice_of_payment("pi_3QxCycle0002")
    assert found == InvoiceRef("in_1QxCycle0002", "sub_1QxBasil0001", "cus_QxBasil0001")
    [sent] = recorded.requests
    assert (sent.method, sent.path) == ("GET", "/v1/invoice_payments")
    assert sent.form == {
        "payment": {"type": "payment_intent", "payment_intent": "pi_3QxCycle0002"},
        "expand": ["data.invoice"],
        "limit": "1",
    }
    assert sent.headers["Stripe-Version"] == PINNED_API_VERSION


async def test_a_payment_of_no_invoice_is_none(
    gateway: StripeGateway, recorded: FakeStripe
) -> None:
    assert await gateway.invoice_of_payment("pi_of_a_purchase") is None


async def test_an_outage_is_an_outage_not_an_answer(  # the refund is redelivered later
    gateway: StripeGateway, recorded: FakeStripe
) -> None:
    recorded.fail_next(500, "An unknown error occurred", headers={"Stripe-Should-Retry": "false"})
    with pytest.raises(GatewayUnavailable):
        await gateway.invoice_of_payment("pi_3QxCycle0002")
