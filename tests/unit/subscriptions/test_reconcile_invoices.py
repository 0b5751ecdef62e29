"""``batch reconcile`` finds paid invoices whose credits were never granted, and with
``--repair`` grants them through the webhook's own path, once."""

from __future__ import annotations

from datetime import timedelta

from adapters.stripe.events import translate_event
from application.batch import JobReport, NoControl
from application.reconciliation.reconcile import ReconcilePolicy, reconcile
from application.webhooks.events import InvoicePaid, Unhandled
from domain.ledger import EntryKind
from tests.unit.subscriptions.world import PLUS, World


async def run(world: World, repair: bool) -> JobReport:
    return await reconcile(
        uow_factory=world.store.uow_factory,
        gateway=world.gateway,
        clock=world.clock,
        policy=ReconcilePolicy(since=timedelta(days=30), repair=repair),
        control=NoControl(),
    )


def grants(world: World) -> list[int]:
    entries = world.store.state.entries.values()
    return [e.credits for e in entries if e.kind is EntryKind.SUBSCRIPTION_GRANT]


async def test_lost_invoice_webhooks_are_replayed_and_granted_once() -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, PLUS)
    await world.gateway.renew_subscription(subscription_id, "never")
    await run(world, repair=False)
    assert grants(world) == [2500, 2500]
    await run(world, repair=True)
    assert grants(world) == [2500, 2500]
    assert await world.balance(user_id) == 500 + 2500  # the first period rolled over


async def test_an_invoice_recorded_but_never_granted_is_drift_that_repair_grants() -> None:
    """Its event was recorded as unhandled (by a version without subscriptions)."""
    world = World()
    user_id = await world.user()
    await world.subscribe(user_id, PLUS)
    paid = next(translate_event(p) for p in world.payloads() if p["type"] == "invoice.paid")
    assert isinstance(paid, InvoicePaid)
    async with world.store.uow() as uow:
        unhandled = Unhandled(event_id=paid.event_id, type=paid.type)
        await uow.events.claim(unhandled, world.clock.now())
        await uow.commit()

    report = await run(world, repair=False)
    assert [d["kind"] for d in report.details] == ["missing_invoice_grant"]
    assert grants(world) == []
    report = await run(world, repair=True)
    assert [d.get("repaired") for d in report.details] == ["granted 2500 credits"]
    assert grants(world) == [2500]
    assert (await run(world, repair=True)).details == []
