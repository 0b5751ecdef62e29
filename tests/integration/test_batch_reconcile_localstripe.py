"""``reconcile`` against localstripe's events API, with every webhook lost.

A PaymentIntent is paid and partly refunded at localstripe with no webhook endpoint
registered; reconciliation must grant and reverse from the listed events alone, and a
second run must change nothing. localstripe is shared by the test session, so the
window also holds other tests' events: they are recorded and ignored, as a webhook
for another app's object would be.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import stripe
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import SystemClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from adapters.stripe.client import StripeGateway
from application.accounts.users import create_user
from application.batch import JobReport, NoControl
from application.purchases.create_payment_intent import create_payment_intent
from application.purchases.orders import Order
from application.reconciliation.reconcile import ReconcilePolicy, reconcile
from application.refunds.gateway import RefundRequest
from domain.credits import CreditRate, PricingPolicy
from domain.payment import PaymentStatus
from tests.integration.test_stripe_localstripe import pay

PRICING = PricingPolicy({"usd": CreditRate("usd", 1)}, 50, 1_000_000)


async def run(engine: AsyncEngine, gateway: StripeGateway) -> JobReport:
    return await reconcile(
        uow_factory=uow_factory(engine),
        gateway=gateway,
        clock=SystemClock(),
        policy=ReconcilePolicy(since=timedelta(minutes=10)),
        control=NoControl(),
    )


async def test_lost_payment_and_refund_webhooks_are_recovered_from_the_events(
    sqlite_url: str,
    localstripe_gateway: StripeGateway,
    localstripe_client: stripe.StripeClient,
) -> None:
    engine = make_engine(sqlite_url)
    factory, clock = uow_factory(engine), SystemClock()
    try:
        email = f"{uuid.uuid4().hex}@example.com"
        user = await create_user(email, uow_factory=factory, clock=clock)
        created = await create_payment_intent(
            Order(user.user.id, 1000, "usd", None, None, None),
            uow_factory=factory,
            gateway=localstripe_gateway,
            clock=clock,
            pricing=PRICING,
            expires_in=timedelta(hours=1),
        )
        await pay(localstripe_client, created.payment_intent_id)
        await localstripe_gateway.refund(
            RefundRequest(
                created.payment_id, created.payment_intent_id, 400, None, f"re-{uuid.uuid4()}"
            )
        )

        first = await run(engine, localstripe_gateway)
        second = await run(engine, localstripe_gateway)

        async with factory() as uow:
            payment = await uow.payments.get(created.payment_id)
            account = await uow.ledger.account(user.user.id)
            assert await uow.audit.verify() == []
    finally:
        await engine.dispose()

    assert payment is not None and payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert account is not None and account.balance == 600
    assert first.ok and first.counts["granted"] == 1 and first.counts["updated"] >= 1
    assert first.details == []
    assert second.ok and second.details == []
    assert set(second.counts) <= {"events", "already_processed"}
    assert second.counts["already_processed"] == second.counts["events"]
