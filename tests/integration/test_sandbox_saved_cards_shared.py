"""Saved cards are one sandbox's for every process on the database (SQLite and PostgreSQL).

Two sandbox gateways, each on an engine and store of its own as two processes would
have them (a replica of ``serve``, ``creditline batch auto-top-up``): a card saved
through one is charged off-session through the other, removed through one and gone
for the other. And the batch job, run as a process of its own, charges the card the
server's setup page saved.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.sql_store import SqlSandboxStore
from adapters.sqlalchemy.engine import make_engine
from application.accounts.users import create_user
from application.auto_top_up.cards import SetupRequest, saved_card, start_card_setup
from application.auto_top_up.ports import ChargeOutcome, OffSessionRequest
from application.auto_top_up.settings import SetAutoTopUp, get_auto_top_up, set_auto_top_up
from application.spending.debit import debit
from application.subscriptions.gateway import CustomerRequest
from domain.auto_top_up import TopUpStatus
from domain.ledger import purchase_posting
from domain.spending import Debit
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from tests.integration.test_sandbox_batch_process import run_batch

SECRET = "whsec_saved_cards_test"
OK = "4242424242424242"
AUTHENTICATES = "4000002760003184"


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def two_gateways(db_url: str) -> AsyncIterator[tuple[SandboxGateway, SandboxGateway]]:
    engines: list[AsyncEngine] = [make_engine(db_url), make_engine(db_url)]
    one, two = (
        SandboxGateway((SECRET,), "http://sandbox.test", _now, store=SqlSandboxStore(engine))
        for engine in engines
    )
    yield one, two
    for engine in engines:
        await engine.dispose()


async def _customer(gateway: SandboxGateway, user_id: str = "u1") -> str:
    request = CustomerRequest(user_id, f"{user_id}@example.com", f"customer:{user_id}")
    return await gateway.create_customer(request)


def _charge(customer: str, key: str) -> OffSessionRequest:
    return OffSessionRequest(
        payment_id=f"pay_{key}",
        user_id="u1",
        customer_id=customer,
        amount=1000,
        currency="usd",
        credits=1000,
        description="Auto top-up: 1000 credits",
        idempotency_key=key,
    )


async def test_a_card_saved_through_one_is_charged_through_the_other(
    two_gateways: tuple[SandboxGateway, SandboxGateway],
) -> None:
    one, two = two_gateways
    customer = await _customer(one)

    await one.save_card(customer, OK)
    charge = await two.charge_off_session(_charge(customer, "auto_top_up:t1"))

    assert charge.outcome is ChargeOutcome.SUCCEEDED and charge.intent_id is not None
    seen = await one.get_payment_intent(charge.intent_id)
    assert (seen.status.value, seen.amount_received) == ("succeeded", 1000)
    shown = await two.default_card(customer)
    assert shown is not None and shown.last4 == "4242"


async def test_a_card_removed_through_one_is_gone_for_the_other(
    two_gateways: tuple[SandboxGateway, SandboxGateway],
) -> None:
    one, two = two_gateways
    customer = await _customer(one)
    await two.save_card(customer, OK)

    await one.remove_default_card(customer)

    assert await two.default_card(customer) is None
    charge = await two.charge_off_session(_charge(customer, "auto_top_up:t2"))
    assert charge.outcome is ChargeOutcome.NO_PAYMENT_METHOD


async def test_a_setup_page_opened_through_one_saves_the_card_through_the_other(
    two_gateways: tuple[SandboxGateway, SandboxGateway],
) -> None:
    one, two = two_gateways
    customer = await _customer(one)
    setup = await one.create_setup_session(
        SetupRequest(customer, "u1", "https://app.test/ok", "https://app.test/no", "setup:1")
    )

    details = await two.checkout_details(setup.session_id)
    outcome = await two.pay_checkout(setup.session_id, AUTHENTICATES)

    assert details.description == "Save a card for auto top-up"
    assert outcome.status == "succeeded"
    shown = await one.default_card(customer)
    assert shown is not None and shown.last4 == "3184"
    assert await one.use_setup_payment_method("seti_any", customer) == "pm_sandbox_3184"
    charge = await one.charge_off_session(_charge(customer, "auto_top_up:t3"))
    assert charge.outcome is ChargeOutcome.AUTHENTICATION_REQUIRED
    assert (await one.checkout_details(setup.session_id)).status.value == "complete"


async def test_a_replayed_charge_answers_alike_on_either_after_its_cancel(
    two_gateways: tuple[SandboxGateway, SandboxGateway],
) -> None:
    one, two = two_gateways
    customer = await _customer(one)
    await one.save_card(customer, AUTHENTICATES)

    first = await one.charge_off_session(_charge(customer, "auto_top_up:t4"))
    assert first.intent_id is not None
    await two.cancel_payment_intent(first.intent_id, deliver="never")
    again = await two.charge_off_session(_charge(customer, "auto_top_up:t4"))

    assert first.outcome is again.outcome is ChargeOutcome.AUTHENTICATION_REQUIRED
    assert again.intent_id == first.intent_id


# ---- a batch process of its own ----------------------------------------------------------


def _server(db_url: str) -> Container:
    return build_container(Settings(database_url=db_url, stripe_webhook_secrets=(SECRET,)))


async def _user_with_a_card_below_threshold(container: Container) -> str:
    """Through the server: a user whose setup page saved a card, auto top-up on, and a
    debit that took them below the threshold (so one top-up is requested)."""
    factory, clock, gateway = container.uow_factory(), container.clock(), container.gateway()
    assert isinstance(gateway, SandboxGateway)
    created = await create_user(
        f"cards-{os.urandom(4).hex()}@example.com", uow_factory=factory, clock=clock
    )
    user = created.user.id
    setup = await start_card_setup(
        user, uow_factory=factory, gateway=gateway, clock=clock, return_url="https://app.test"
    )
    await gateway.pay_checkout(setup.session_id, OK)
    async with factory() as uow:
        await uow.ledger.post(purchase_posting(user, "seed", 1000), clock.now())
        await uow.commit()
    await set_auto_top_up(
        user,
        SetAutoTopUp(True, threshold_credits=500, monthly_limit=2000, amount=1000),
        uow_factory=factory,
        clock=clock,
        pricing=container.settings().pricing,
    )
    await debit(Debit(user, 900, "big"), uow_factory=factory, clock=clock)
    card = await saved_card(user, uow_factory=factory, gateway=gateway)
    assert card is not None and card.last4 == "4242"
    return user


async def test_a_separate_batch_process_charges_the_card_the_server_saved(db_url: str) -> None:
    container = _server(db_url)
    user = await _user_with_a_card_below_threshold(container)
    await container.engine().dispose()

    code, report = await asyncio.to_thread(run_batch, db_url, "auto-top-up", SECRET)

    assert (code, report["ok"], report["counts"]) == (0, True, {"succeeded": 1})
    factory = container.uow_factory()
    view = await get_auto_top_up(user, uow_factory=factory, clock=container.clock())
    assert [t.status for t in view.this_month] == [TopUpStatus.SUCCEEDED]
    async with factory() as uow:
        account = await uow.ledger.account(user)
    assert account is not None and account.balance == 100 + 1000
    await container.engine().dispose()
