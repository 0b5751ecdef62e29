"""``StripeGateway`` completing a card setup against the recording fake: the SetupIntent's
payment method is read and made the customer's default, as a setup-mode Checkout's
completion requires (auto top-up charges the default off-session)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.stripe.client import StripeGateway
from domain.errors import GatewayRejected
from tests.integration.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_51CreditlineSecretKeyThatMustNeverLeak"


@pytest.fixture
async def gateway(fake_stripe: FakeStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(SECRET_KEY, ["whsec_test"], api_base=fake_stripe.base_url)
    yield gateway
    await gateway.aclose()


async def test_the_saved_method_becomes_the_default(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    setup = fake_stripe.saved_card("cus_1", "pm_card_1")

    assert await gateway.use_setup_payment_method(setup, "cus_1") == "pm_card_1"

    read, update = fake_stripe.requests
    assert (read.method, read.path) == ("GET", f"/v1/setup_intents/{setup}")
    assert (update.method, update.path) == ("POST", "/v1/customers/cus_1")
    assert update.form == {"invoice_settings": {"default_payment_method": "pm_card_1"}}
    assert fake_stripe.customers["cus_1"]["invoice_settings"] == {
        "default_payment_method": "pm_card_1"
    }


async def test_doing_it_again_leaves_the_same_default(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    setup = fake_stripe.saved_card("cus_1", "pm_card_1")
    await gateway.use_setup_payment_method(setup, "cus_1")
    assert await gateway.use_setup_payment_method(setup, "cus_1") == "pm_card_1"
    assert fake_stripe.customers["cus_1"]["invoice_settings"] == {
        "default_payment_method": "pm_card_1"
    }


async def test_a_setup_that_saved_nothing_changes_nothing(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    setup = fake_stripe.saved_card("cus_1", None)
    assert await gateway.use_setup_payment_method(setup, "cus_1") is None
    assert [r.method for r in fake_stripe.requests] == ["GET"]
    assert fake_stripe.customers["cus_1"]["invoice_settings"] == {}


async def test_a_setup_of_another_customer_changes_nothing(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    setup = fake_stripe.saved_card("cus_other", "pm_card_1")
    fake_stripe.saved_card("cus_1", None)
    assert await gateway.use_setup_payment_method(setup, "cus_1") is None
    assert [r.method for r in fake_stripe.requests] == ["GET"]
    assert fake_stripe.customers["cus_1"]["invoice_settings"] == {}


async def test_an_unknown_setup_intent_is_rejected(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRejected, match="No such setup_intent"):
        await gateway.use_setup_payment_method("seti_missing", "cus_1")
