"""``reconcile`` on the memory adapters: replay the gateway's events, then find drift.

Webhooks are lost (the memory gateway keeps its events but delivers none), and some
tests break the ledger by hand to create the drift a bug or an outage would leave.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from adapters.memory.gateway import MemoryGateway
from adapters.memory.state import ProcessedEvent
from application.batch import JobReport, NoControl
from application.reconciliation.reconcile import ReconcilePolicy, reconcile
from application.webhooks.events import GatewayEvent, PaymentSucceeded
from domain.ledger import EntryKind, purchase_posting
from domain.payment import PaymentStatus
from tests.unit.conftest import T0, App

WINDOW = timedelta(hours=72)


async def run(app: App, *, repair: bool = False) -> JobReport:
    return await reconcile(
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
        policy=ReconcilePolicy(since=WINDOW, repair=repair, batch_size=2),
        control=NoControl(),
    )


def drift_kinds(report: JobReport) -> list[object]:
    return [d["kind"] for d in report.details]


def forget_effects(app: App, events: list[GatewayEvent]) -> None:
    """Mark events processed without their effects: the bug docs/failure-modes.md #2 describes."""
    for event in events:
        app.store.state.events[event.event_id] = ProcessedEvent(
            event.event_id, event.type, T0, False, "granted"
        )


async def test_a_payment_whose_webhooks_were_lost_is_granted_and_a_rerun_is_a_noop(
    app: App,
) -> None:
    payment = await app.open_checkout(1000)
    await app.pay(payment)
    app.clock.advance(timedelta(hours=2))

    first = await run(app)
    second = await run(app)

    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert app.balance(payment.user_id) == 1000
    assert len(app.purchase_entries(payment.id)) == 1
    assert first.counts["granted"] == 1 and first.ok and first.details == []
    assert second.counts == {"events": 2, "already_processed": 2}
    assert second.ok and second.details == []


async def test_a_lost_refund_is_reversed(app: App) -> None:
    payment = await app.open_intent(1000)
    await app.handle_all(await app.pay(payment))
    await app.refund_at_gateway(app.payment(payment.id), 400)

    first = await run(app)
    second = await run(app)

    assert app.payment(payment.id).status is PaymentStatus.PARTIALLY_REFUNDED
    assert app.balance(payment.user_id) == 600
    assert first.ok and second.ok
    assert set(second.counts) == {"events", "already_processed"}


class Reversed(MemoryGateway):
    """A gateway that lists a refund before the payment it refunds (same second)."""

    async def list_events(self, created_after: datetime) -> list[GatewayEvent]:
        return list(reversed(await super().list_events(created_after)))


async def test_an_event_not_ready_is_retried_after_the_rest(app: App) -> None:
    app.gateway = Reversed(app.clock.now)
    payment = await app.open_intent(1000)
    await app.pay(payment)
    await app.refund_at_gateway(app.payment(payment.id), 1000)

    report = await run(app)

    assert report.ok, report.failures
    assert app.payment(payment.id).status is PaymentStatus.REFUNDED
    assert app.balance(payment.user_id) == 0


async def test_a_processed_event_whose_grant_is_missing_is_drift_until_repaired(
    app: App,
) -> None:
    payment = await app.open_checkout(1000)
    forget_effects(app, await app.pay(payment))

    found = await run(app)
    repaired = await run(app, repair=True)
    clean = await run(app, repair=True)

    assert drift_kinds(found) == ["missing_grant"]
    assert [f.item_id for f in found.failures] == [payment.id]
    assert app.balance(payment.user_id) == 1000
    assert repaired.details[0]["repaired"] == "granted 1000 credits"
    assert repaired.ok and repaired.counts["repaired"] == 1
    assert clean.ok and clean.details == []


async def test_a_missing_refund_reversal_is_repaired(app: App) -> None:
    payment = await app.open_intent(1000)
    await app.handle_all(await app.pay(payment))
    _, refund_events = await app.refund_at_gateway(app.payment(payment.id), 250)
    forget_effects(app, refund_events)

    report = await run(app, repair=True)

    assert drift_kinds(report) == ["missing_refund"]
    assert report.details[0]["repaired"] == "reversed 250 credits"
    assert app.balance(payment.user_id) == 750


async def test_a_grant_the_gateway_never_took_money_for_is_reported_not_undone(
    app: App,
) -> None:
    payment = await app.open_checkout(1000)  # never paid
    async with app.store.uow() as uow:
        await uow.ledger.post(purchase_posting(payment.user_id, payment.id, 1000), T0)
        await uow.commit()

    report = await run(app, repair=True)

    assert drift_kinds(report) == ["extra_grant"]
    assert "repaired" not in report.details[0]
    assert not report.ok
    assert app.balance(payment.user_id) == 1000


async def test_an_amount_mismatch_is_reported_and_nothing_granted(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.pay(payment)
    app.store.state.payments[payment.id] = replace(app.payment(payment.id), amount=5000)

    report = await run(app, repair=True)

    assert set(drift_kinds(report)) == {"amount_mismatch"}
    assert not report.ok
    assert app.balance(payment.user_id) == 0
    assert not app.purchase_entries(payment.id)


async def test_events_older_than_the_window_are_not_replayed(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.pay(payment)
    app.clock.advance(WINDOW + timedelta(hours=1))  # the payment is now outside the window

    report = await run(app)

    assert report.counts == {"events": 0}
    assert app.balance(payment.user_id) == 0
    assert [type(e) for e in app.kept_events()][:1] == [PaymentSucceeded]
    assert not [e for e in app.entries() if e.kind is EntryKind.PURCHASE]
