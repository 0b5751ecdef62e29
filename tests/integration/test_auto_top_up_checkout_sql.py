"""The authentication Checkout of an auto top-up on SQL (SQLite and PostgreSQL).

A top-up waiting for the user to pay its Checkout is in flight: the database lets no
second one be requested until it ends. The Checkout's events, delivered twice and
concurrently, grant its credits once and complete the top-up once, with one
``auto_top_up.succeeded`` in the outbox.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.sandbox.memory_store import MemorySandboxStore
from adapters.sandbox.records import SessionRecord
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.uow import uow_factory
from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import run_auto_top_ups
from application.queries import verify_ledger
from application.spending.debit import debit
from application.subscriptions.gateway import CustomerRequest
from application.webhooks.events import GatewayEvent
from application.webhooks.handle_gateway_event import handle_gateway_event
from domain.auto_top_up import AutoTopUp, AutoTopUpSettings, TopUpStatus
from domain.ledger import purchase_posting
from domain.spending import Debit
from tests.unit.conftest import checkout_settings

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AUTHENTICATES = "4000002760003184"


def _requested(top_up_id: str) -> AutoTopUp:
    return AutoTopUp(top_up_id, "u1", TopUpStatus.REQUESTED, 1000, "usd", NOW, NOW)


async def test_a_top_up_waiting_for_the_user_is_in_flight(engine: AsyncEngine) -> None:
    factory = uow_factory(engine)
    linked = replace(_requested("atu_1"), checkout_payment_id="pay_checkout_1")
    async with factory() as uow:
        assert await uow.auto_top_ups.request(linked, 10_000, NOW)
        await uow.auto_top_ups.save(
            linked.needs_action("authentication_required", "https://x/cs_1")
        )
        refused = await uow.auto_top_ups.request(_requested("atu_2"), 10_000, NOW)
        found = await uow.auto_top_ups.by_checkout_payment("pay_checkout_1", for_update=True)
        missing = await uow.auto_top_ups.by_checkout_payment("pay_other")
        await uow.commit()

    assert not refused
    assert found is not None and found.id == "atu_1" and missing is None
    assert (found.status, found.attempts, found.action_url) == (
        TopUpStatus.ACTION_REQUIRED,
        1,
        "https://x/cs_1",
    )
    async with factory() as uow:
        await uow.auto_top_ups.save(found.unpaid_on_session("checkout_expired"))
        again = await uow.auto_top_ups.request(_requested("atu_3"), 10_000, NOW)
        await uow.commit()
    assert again


async def _waiting_for_the_user(engine: AsyncEngine, gateway: MemoryGateway) -> SessionRecord:
    """u1's card asks for authentication; a debit crossed the threshold; the worker ran."""
    factory, clock = uow_factory(engine), FixedClock(NOW)
    customer = await gateway.create_customer(CustomerRequest("u1", "u1@example.com", "cus:u1"))
    await gateway.save_card(customer, AUTHENTICATES)
    async with factory() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "seed_u1", 1000), NOW)
        await uow.customers.add("u1", customer, NOW)
        settings = AutoTopUpSettings(True, threshold_credits=500, amount=1000, monthly_limit=2000)
        await uow.auto_top_ups.save_settings("u1", settings, NOW)
        await uow.commit()
    await debit(Debit("u1", 900, "big"), uow_factory=factory, clock=clock)
    terms = checkout_settings()
    report = await run_auto_top_ups(
        uow_factory=factory,
        gateway=gateway,
        clock=clock,
        terms=TopUpTerms(terms.pricing, terms.expires_in, terms.redirects),
    )
    assert dict(report.counts) == {"authentication_required": 1}, report.failures
    store = gateway.store
    assert isinstance(store, MemorySandboxStore)
    (session,) = [s for s in store.sessions() if "auto_top_up_id" in s.metadata]
    return session


async def test_the_checkouts_events_delivered_at_once_complete_the_top_up_once(
    engine: AsyncEngine,
) -> None:
    gateway = MemoryGateway(lambda: NOW)
    session = await _waiting_for_the_user(engine, gateway)
    paid = await gateway.pay_checkout(session.id, "4242424242424242", "never")
    events = [event.translate() for event in paid.events]
    assert {e.type for e in events} == {"checkout.session.completed", "payment_intent.succeeded"}

    async def deliver(event: GatewayEvent) -> None:
        await handle_gateway_event(
            event,
            uow_factory=uow_factory(engine),
            gateway=gateway,
            clock=FixedClock(NOW),
        )

    await asyncio.gather(*(deliver(e) for e in events * 3))

    factory = uow_factory(engine)
    async with factory() as uow:
        account = await uow.ledger.account("u1")
        (top_up,) = await uow.auto_top_ups.since("u1", NOW.replace(day=1))
    assert account is not None and account.balance == 100 + 1000
    assert top_up.status is TopUpStatus.SUCCEEDED
    async with engine.connect() as conn:
        types = [row.type for row in await conn.execute(select(outbox.c.type))]
    assert types.count("auto_top_up.succeeded") == 1
    assert types.count("auto_top_up.action_required") == 1
    assert await verify_ledger(uow_factory=factory) == []


async def test_debits_while_the_user_has_not_paid_request_nothing_more(
    engine: AsyncEngine,
) -> None:
    gateway = MemoryGateway(lambda: NOW)
    await _waiting_for_the_user(engine, gateway)
    factory, clock = uow_factory(engine), FixedClock(NOW)

    async def one(i: int) -> None:
        await debit(Debit("u1", 1, f"small{i}"), uow_factory=factory, clock=clock)

    await asyncio.gather(*(one(i) for i in range(50)))

    async with factory() as uow:
        top_ups = await uow.auto_top_ups.since("u1", NOW.replace(day=1))
    assert [t.status for t in top_ups] == [TopUpStatus.ACTION_REQUIRED]
