"""Auto top-up on ``StripeGateway`` against the recording fake: when the off-session
charge asks for authentication, what reaches Stripe is the PaymentIntent's cancel and a
Checkout Session in payment mode for the user's customer, naming the top-up, under the
attempt's key; a worker that lost Stripe's answer replays the same calls and Stripe
answers them with the same objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from adapters.stripe.client import StripeGateway
from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import LEASE, run_auto_top_ups
from application.batch import JobReport
from application.purchases.gateway import CheckoutCreated, CheckoutRequest
from application.spending.debit import debit
from domain.auto_top_up import ACTION_LINK_LIFETIME, AutoTopUp, AutoTopUpSettings, TopUpStatus
from domain.errors import GatewayUnavailable
from domain.ledger import purchase_posting
from domain.payment import PaymentStatus
from domain.spending import Debit
from tests.integration.fake_stripe import FakeStripe
from tests.unit.conftest import checkout_settings

SECRET_KEY = "sk_test_51CreditlineSecretKeyThatMustNeverLeak"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SESSION = "session_id={CHECKOUT_SESSION_ID}"


class LosesAnswers(StripeGateway):
    """Stripe creates the Checkout Session, but the first ``lose`` answers never arrive."""

    lose = 0

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        created = await super().create_checkout(request)
        if self.lose > 0:
            self.lose -= 1
            raise GatewayUnavailable("simulated timeout after Stripe acted")
        return created


@pytest.fixture
async def gateway(fake_stripe: FakeStripe) -> AsyncIterator[LosesAnswers]:
    gateway = LosesAnswers(SECRET_KEY, ["whsec_test"], api_base=fake_stripe.base_url)
    yield gateway
    await gateway.aclose()


async def below_threshold(store: MemoryStore, clock: FixedClock, fake: FakeStripe) -> None:
    """User u1, customer cus_1 whose default card asks for authentication off-session,
    auto top-up on, and a debit that took their credits below the threshold."""
    fake.default_card("cus_1", "pm_card_authenticationRequired", needs_authentication=True)
    async with store.uow() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "seed", 1000), NOW)
        await uow.customers.add("u1", "cus_1", NOW)
        await uow.auto_top_ups.save_settings(
            "u1", AutoTopUpSettings(True, 500, 1000, monthly_limit=2000), NOW
        )
        await uow.commit()
    await debit(Debit("u1", 900, "big"), uow_factory=store.uow_factory, clock=clock)


async def run(store: MemoryStore, clock: FixedClock, gateway: StripeGateway) -> JobReport:
    settings = checkout_settings()
    return await run_auto_top_ups(
        uow_factory=store.uow_factory,
        gateway=gateway,
        clock=clock,
        terms=TopUpTerms(settings.pricing, settings.expires_in, settings.redirects),
    )


def the_top_up(store: MemoryStore) -> AutoTopUp:
    (top_up,) = store.state.auto_top_ups.values()
    return top_up


async def test_the_charge_is_canceled_and_a_checkout_for_the_customer_replaces_it(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    await below_threshold(store, clock, fake_stripe)

    report = await run(store, clock, gateway)

    assert dict(report.counts) == {"authentication_required": 1}
    top_up = the_top_up(store)
    read, charge, cancel, create = fake_stripe.requests
    assert (read.method, read.path) == ("GET", "/v1/customers/cus_1")
    assert (charge.path, charge.headers["Idempotency-Key"]) == (
        "/v1/payment_intents",
        f"auto_top_up:{top_up.id}",
    )
    assert (charge.form["off_session"], charge.form["confirm"]) == ("true", "true")
    (intent_id,) = fake_stripe.payment_intents
    assert (cancel.method, cancel.path) == ("POST", f"/v1/payment_intents/{intent_id}/cancel")
    assert fake_stripe.payment_intents[intent_id]["status"] == "canceled"
    assert create.path == "/v1/checkout/sessions"
    assert create.headers["Idempotency-Key"] == f"auto_top_up:{top_up.id}:checkout"
    checkout_id = top_up.checkout_payment_id
    assert checkout_id is not None
    assert create.form == {
        "mode": "payment",
        "customer": "cus_1",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "1000",
                    "product_data": {"name": "Auto top-up: 1000 credits"},
                },
                "quantity": "1",
            }
        ],
        "success_url": f"https://app.example.com/payment/success?{SESSION}",
        "cancel_url": "https://app.example.com/payment/cancel",
        "expires_at": str(int((NOW + ACTION_LINK_LIFETIME).timestamp())),
        "client_reference_id": checkout_id,
        "metadata": {
            "payment_id": checkout_id,
            "user_id": "u1",
            "credits": "1000",
            "auto_top_up_id": top_up.id,
        },
        "payment_intent_data": {"metadata": {"payment_id": checkout_id, "user_id": "u1"}},
    }
    (session_id,) = fake_stripe.sessions
    assert top_up.status is TopUpStatus.ACTION_REQUIRED
    assert top_up.action_url == f"https://checkout.stripe.com/c/pay/{session_id}"
    assert top_up.payment_id is not None
    assert store.state.payments[top_up.payment_id].status is PaymentStatus.CANCELED


async def test_a_worker_that_lost_stripes_answer_replays_into_the_same_objects(
    gateway: LosesAnswers, fake_stripe: FakeStripe
) -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    await below_threshold(store, clock, fake_stripe)
    gateway.lose = 1

    assert not (await run(store, clock, gateway)).ok
    assert the_top_up(store).status is TopUpStatus.REQUESTED
    clock.advance(LEASE + timedelta(seconds=1))
    assert dict((await run(store, clock, gateway)).counts) == {"authentication_required": 1}

    assert len(fake_stripe.payment_intents) == 1 and len(fake_stripe.sessions) == 1
    (session_id,) = fake_stripe.sessions
    replayed = [r for r in fake_stripe.requests if r.method == "POST"]
    assert [r.path.rsplit("/", 1)[-1] for r in replayed] == [
        "payment_intents",
        "cancel",
        "sessions",
        "payment_intents",  # replayed: the same 402 and PaymentIntent
        "cancel",  # refused (canceled already), then read
        "sessions",  # replayed: the same session
    ]
    assert the_top_up(store).action_url == f"https://checkout.stripe.com/c/pay/{session_id}"
    (action,) = [m for m in store.state.outbox.values() if m.type == "auto_top_up.action_required"]
    assert action.payload["url"] == f"https://checkout.stripe.com/c/pay/{session_id}"
