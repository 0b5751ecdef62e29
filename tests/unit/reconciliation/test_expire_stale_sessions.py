"""``expire_stale_sessions`` on the memory adapters: the missed-webhook safety net.

Payments are paid (or not) at the memory gateway with their webhooks lost, the clock
moves past their time, and the sweep must leave each in its final state, once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from adapters.memory.gateway import MemoryGateway
from application.batch import BatchControl, JobReport, NoControl
from application.purchases.gateway import CheckoutState, CheckoutStatus, IntentStatus
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import CARD_NO_FUNDS, App

TTL = timedelta(hours=24)


class StopAfter:
    """Asks the job to stop once ``batches`` batches have been reported."""

    def __init__(self, batches: int) -> None:
        self.batches = batches

    def begin(self, total: int | None) -> None:
        return None

    def advance(self, items: int) -> None:
        self.batches -= 1

    @property
    def stop_requested(self) -> bool:
        return self.batches <= 0


async def sweep(
    app: App, *, batch_size: int = 100, control: BatchControl | None = None
) -> JobReport:
    return await expire_stale_sessions(
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
        policy=SweepPolicy(intent_ttl=TTL, batch_size=batch_size),
        control=control or NoControl(),
    )


def after_expiry(app: App) -> None:
    app.clock.advance(timedelta(hours=1, minutes=1))


async def test_a_paid_session_whose_webhooks_were_lost_is_fulfilled_once(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.pay(payment)  # deliver="never": the payment happened, its events were lost
    after_expiry(app)

    report = await sweep(app)
    again = await sweep(app)

    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert app.balance(payment.user_id) == 1000
    assert len(app.purchase_entries(payment.id)) == 1
    assert (report.counts, report.ok) == ({"fulfilled": 1}, True)
    assert (again.counts, again.failures) == ({}, [])


async def test_an_unpaid_session_is_expired_at_the_gateway_and_here(app: App) -> None:
    payment = await app.open_checkout()
    after_expiry(app)

    report = await sweep(app)

    assert app.payment(payment.id).status is PaymentStatus.EXPIRED
    assert payment.stripe_session_id is not None
    state = await app.gateway.get_checkout(payment.stripe_session_id)
    assert state.status is CheckoutStatus.EXPIRED
    assert report.counts == {"expired": 1}
    assert app.balance(payment.user_id) == 0


async def test_the_expiry_webhook_and_the_sweep_agree(wired_app: App) -> None:
    """With webhooks delivered, the gateway's expired event lands first: no conflict."""
    payment = await wired_app.open_checkout()
    after_expiry(wired_app)

    report = await sweep(wired_app)

    assert wired_app.payment(payment.id).status is PaymentStatus.EXPIRED
    assert report.counts == {"expired": 1}


async def test_a_declined_session_is_still_open_and_is_expired(app: App) -> None:
    payment = await app.open_checkout()
    for event in await app.pay(payment, CARD_NO_FUNDS):
        await app.handle(event)
    assert app.payment(payment.id).status is PaymentStatus.FAILED
    after_expiry(app)

    await sweep(app)

    assert app.payment(payment.id).status is PaymentStatus.EXPIRED


async def test_a_session_the_gateway_already_expired_is_marked_without_asking_twice(
    app: App,
) -> None:
    payment = await app.open_checkout()
    await app.expire(payment)  # expired at the gateway, the event lost
    after_expiry(app)

    report = await sweep(app)

    assert app.payment(payment.id).status is PaymentStatus.EXPIRED
    assert report.ok


async def test_payments_not_yet_stale_and_closed_ones_are_left_alone(app: App) -> None:
    fresh = await app.open_checkout()
    young_intent = await app.open_intent()
    app.clock.advance(timedelta(minutes=59))

    report = await sweep(app)

    assert report.counts == {}
    assert app.payment(fresh.id).status is PaymentStatus.PENDING
    assert app.payment(young_intent.id).status is PaymentStatus.PENDING


async def test_an_old_intent_is_canceled_and_a_paid_one_fulfilled(app: App) -> None:
    unpaid = await app.open_intent()
    paid = await app.open_intent(2500)
    await app.pay(paid)
    app.clock.advance(TTL + timedelta(seconds=1))

    report = await sweep(app)

    assert app.payment(unpaid.id).status is PaymentStatus.CANCELED
    assert app.payment(unpaid.id).failure_reason == "abandoned"
    assert unpaid.stripe_payment_intent_id is not None
    intent = await app.gateway.get_payment_intent(unpaid.stripe_payment_intent_id)
    assert intent.status is IntentStatus.CANCELED
    assert app.payment(paid.id).status is PaymentStatus.COMPLETED
    assert app.balance(paid.user_id) == 2500
    assert report.counts == {"canceled": 1, "fulfilled": 1}


class PaidWhileSweeping(MemoryGateway):
    """The customer pays between the sweep's look and its expire call."""

    def __init__(self, app: App) -> None:
        super().__init__(app.clock.now)
        self.app = app

    async def expire_checkout(self, session_id: str, *, deliver: str = "now") -> CheckoutState:
        self.app.clock.advance(timedelta(hours=-1))  # pay while the session is still open
        await self.pay_checkout(session_id, "4242424242424242", "never")
        self.app.clock.advance(timedelta(hours=1))
        return await super().expire_checkout(session_id)  # rejected: it is complete


async def test_a_gateway_that_says_already_complete_means_paid(app: App) -> None:
    app.gateway = PaidWhileSweeping(app)
    payment = await app.open_checkout()
    after_expiry(app)

    report = await sweep(app)

    assert report.counts == {"fulfilled": 1}
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert app.balance(payment.user_id) == 1000


async def test_a_gateway_outage_fails_the_item_and_its_lease_defers_the_retry(app: App) -> None:
    payment = await app.open_checkout()
    after_expiry(app)
    app.gateway.fail_next("get_checkout")

    failed = await sweep(app)
    leased = await sweep(app)
    app.clock.advance(timedelta(minutes=5))
    retried = await sweep(app)

    assert [f.item_id for f in failed.failures] == [payment.id]
    assert "gateway_unavailable" in failed.failures[0].error
    assert leased.counts == {} and leased.ok
    assert retried.counts == {"expired": 1}
    assert app.payment(payment.id).status is PaymentStatus.EXPIRED


async def test_a_crash_after_the_gateway_acted_is_finished_by_the_next_run(app: App) -> None:
    """The gateway expired the session but its answer was lost (as a crash would lose it)."""
    payment = await app.open_checkout()
    after_expiry(app)
    app.gateway.fail_next("expire_checkout", after=True)

    crashed = await sweep(app)
    left = app.payment(payment.id).status
    app.clock.advance(timedelta(minutes=5))
    finished = await sweep(app)

    assert not crashed.ok and left is PaymentStatus.PENDING
    assert finished.counts == {"expired": 1} and finished.ok
    assert app.payment(payment.id).status is PaymentStatus.EXPIRED


async def test_an_amount_the_gateway_did_not_take_is_a_failure_not_a_grant(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.pay(payment)
    app.store.state.payments[payment.id] = replace(app.payment(payment.id), amount=2000)
    after_expiry(app)

    report = await sweep(app)

    assert "amount_mismatch" in report.failures[0].error
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.balance(payment.user_id) == 0


async def test_a_payment_never_created_at_the_gateway_expires_here_only(app: App) -> None:
    payment = await app.open_checkout()
    orphan = replace(app.payment(payment.id), id="pay_orphan", stripe_session_id=None)
    app.store.state.payments[orphan.id] = replace(orphan, stripe_payment_intent_id=None)
    after_expiry(app)

    report = await sweep(app)

    assert app.payment("pay_orphan").status is PaymentStatus.EXPIRED
    assert report.counts == {"expired": 2}


async def open_checkouts(app: App, count: int) -> list[Payment]:
    return [await app.open_checkout() for _ in range(count)]


async def test_a_stop_request_is_honoured_between_batches(app: App) -> None:
    payments = await open_checkouts(app, 5)
    after_expiry(app)

    report = await sweep(app, batch_size=2, control=StopAfter(batches=1))

    assert report.interrupted
    statuses = [app.payment(p.id).status for p in payments]
    assert statuses.count(PaymentStatus.EXPIRED) == 2
    assert statuses.count(PaymentStatus.PENDING) == 3


async def test_concurrent_sweeps_settle_each_payment_once(app: App) -> None:
    payments = await open_checkouts(app, 12)
    after_expiry(app)

    reports = await asyncio.gather(*(sweep(app, batch_size=3) for _ in range(3)))

    assert sum(r.counts["expired"] for r in reports) == 12
    assert all(r.ok for r in reports)
    assert {app.payment(p.id).status for p in payments} == {PaymentStatus.EXPIRED}
