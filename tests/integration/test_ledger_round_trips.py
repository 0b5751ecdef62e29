"""The SQL round trips of the hot paths, pinned: the ledger's postings and a paid webhook.

A grant (every paid webhook) is one statement on PostgreSQL (``WITH moved AS (UPDATE
accounts ...) INSERT ...``) and an ``UPDATE ... RETURNING`` plus an ``INSERT`` on
SQLite; the lot is sized from the returned balance, never read. A debit adds the lot
read, the lot update and the allocation insert, each one statement however many lots
it takes. A first-time paid webhook is four statements on PostgreSQL for a user with
no trial and no referral, and a redelivery is one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import accounts, outbox, processed_events
from adapters.sqlalchemy.uow import uow_factory
from application.accounts.users import create_user
from application.alerts.settings import update_alert_settings
from application.spending.debit import debit
from application.spending.spend import spend
from application.webhooks.events import PaymentRef, PaymentSucceeded
from application.webhooks.gateway import WebhookGateway
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventOutcome
from domain.auto_top_up import AutoTopUpSettings
from domain.ledger import EntryKind, Posting, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.spending import Debit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """The first word of every statement sent (BEGIN and COMMIT are not statements)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_grant_costs_two_round_trips_and_a_debit_five(engine: AsyncEngine) -> None:
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account("u1")
        await uow.ledger.post(purchase_posting("u1", "pay_0", 5), NOW)
        with counted(engine) as statements:
            await uow.ledger.post(purchase_posting("u1", "pay_1", 1000), NOW)
            granted = list(statements)
            statements.clear()
            debit = Posting("u1", -500, EntryKind.USAGE_DEBIT, "req", "r1", "use:r1")
            entry = await uow.ledger.post(debit, NOW)
        assert entry is not None and len(await uow.lots.allocations(entry.id)) == 2
    one_statement = engine.dialect.name == "postgresql"
    assert granted == (["WITH"] if one_statement else ["UPDATE", "INSERT"])
    assert statements == ["UPDATE", "SELECT", "INSERT", "UPDATE", "INSERT"]


@pytest.fixture
async def pg_engine(empty_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_pg_url)
    yield engine
    await engine.dispose()


async def paid_webhook(engine: AsyncEngine, payment: Payment) -> EventOutcome:
    event = PaymentSucceeded(
        event_id=f"evt_{payment.id}",
        type="payment_intent.succeeded",
        payment=PaymentRef(intent_id=payment.stripe_payment_intent_id),
        amount=payment.amount,
        currency=payment.currency,
    )
    unused: Any = None  # this event needs no gateway call
    gateway: WebhookGateway = unused
    return await handle_gateway_event(
        event, uow_factory=uow_factory(engine), gateway=gateway, clock=FixedClock(NOW)
    )


@pytest.mark.postgres
async def test_a_paid_webhook_costs_four_statements_and_a_redelivery_one(
    pg_engine: AsyncEngine,
) -> None:
    user = (
        await create_user(
            "buyer@example.com", uow_factory=uow_factory(pg_engine), clock=FixedClock(NOW)
        )
    ).user
    payment = Payment(
        id="pay_rt",
        user_id=user.id,
        kind=PaymentKind.PAYMENT_INTENT,
        amount=1000,
        currency="usd",
        credits=500,
        status=PaymentStatus.PENDING,
        created_at=NOW,
        stripe_payment_intent_id="pi_rt",
    )
    async with uow_factory(pg_engine)() as uow:
        await uow.payments.add(payment)
        await uow.commit()
    with counted(pg_engine) as statements:
        assert await paid_webhook(pg_engine, payment) is EventOutcome.GRANTED
        first = list(statements)
        statements.clear()
        assert await paid_webhook(pg_engine, payment) is EventOutcome.DUPLICATE
    # claim the event; lock and complete the payment; balance, entry and lot; the
    # outbox rows (PaymentCompleted, CreditsGranted) with the outcome as a WITH.
    assert first == ["INSERT", "UPDATE", "WITH", "WITH"]
    assert statements == ["INSERT"]
    async with pg_engine.connect() as conn:
        outcome = await conn.scalar(select(processed_events.c.outcome))
        types = sorted((await conn.scalars(select(outbox.c.type))).all())
    async with uow_factory(pg_engine)() as uow:
        account = await uow.ledger.account(user.id)
    assert outcome == EventOutcome.GRANTED
    assert types == ["credits.granted", "payment.completed"]
    assert account is not None and account.balance == 500


async def _debit_statements(engine: AsyncEngine, user_id: str, key: str) -> list[str]:
    with counted(engine) as statements:
        await debit(Debit(user_id, 10, key), uow_factory=uow_factory(engine), clock=FixedClock(NOW))
    return statements


@pytest.mark.postgres
async def test_a_debit_asks_for_alerts_and_auto_top_up_only_of_users_who_have_them(
    pg_engine: AsyncEngine,
) -> None:
    """The spend's opening statement reads the account's ``has_alerts`` and
    ``has_auto_top_up`` flags with the balance it locks, and the debit returns the
    balance and held it left: for a user with neither, the follow-ups cost nothing."""
    factory, clock = uow_factory(pg_engine), FixedClock(NOW)
    user = (await create_user("spender@example.com", uow_factory=factory, clock=clock)).user
    async with factory() as uow:
        await uow.ledger.post(purchase_posting(user.id, "pay_s", 1000), NOW)
        await uow.commit()

    plain = await _debit_statements(pg_engine, user.id, "d1")
    # open the spend (claim + lock); debit (balance, entry, lots); the outbox row
    assert plain == ["WITH", "WITH", "INSERT"]

    settings = AutoTopUpSettings(True, threshold_credits=100, amount=1000, monthly_limit=5000)
    async with factory() as uow:
        await uow.auto_top_ups.save_settings(user.id, settings, NOW)
        await uow.commit()
    await update_alert_settings(
        user.id, {"low_balance_threshold": 50}, uow_factory=factory, clock=clock
    )

    watched = await _debit_statements(pg_engine, user.id, "d2")
    assert len(watched) > len(plain)  # the alerts row and the settings are read now
    async with pg_engine.connect() as conn:
        flags = (
            await conn.execute(select(accounts.c.has_alerts, accounts.c.has_auto_top_up))
        ).one()
    assert tuple(flags) == (True, True)


async def _from_the_row(uow: Any, user_id: str) -> tuple[int, int]:
    query = select(accounts.c.balance, accounts.c.held).where(accounts.c.user_id == user_id)
    row = (await uow.ledger._conn.execute(query)).one()  # the unit's own connection
    return row.balance, row.held


async def test_the_account_a_unit_knows_is_always_the_row(engine: AsyncEngine) -> None:
    """Whatever changes the account in a transaction, ``ledger.account`` answers what
    the row holds, whether it was read or known from the last change's answer."""
    factory, clock = uow_factory(engine), FixedClock(NOW)
    user = (await create_user("row@example.com", uow_factory=factory, clock=clock)).user.id
    async with factory() as uow:
        await uow.ledger.post(purchase_posting(user, "pay_r", 1000), NOW)
        await uow.commit()
    steps = [
        lambda uow: spend(uow, user, [Debit(user, 10, "a"), Debit(user, 15, "b")], NOW),
        lambda uow: uow.spending.reserve(user, 100, NOW),
        lambda uow: spend(uow, user, [Debit(user, 5, "c")], NOW),
        lambda uow: uow.spending.unreserve(user, 40, NOW),
        lambda uow: uow.ledger.post(purchase_posting(user, "pay_s", 200), NOW),
        lambda uow: spend(uow, user, [Debit(user, 7, "d")], NOW),
    ]
    async with factory() as uow:
        for step in steps:
            await step(uow)
            account = await uow.ledger.account(user)
            assert account is not None
            assert (account.balance, account.held) == await _from_the_row(uow, user)
        await uow.commit()
    async with factory() as uow:
        assert await _from_the_row(uow, user) == (1000 - 10 - 15 - 5 + 200 - 7, 60)
