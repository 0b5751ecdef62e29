"""A refund's reversal and a debit that each cross the threshold, racing: one alert per
user, decided by whichever commits first, and one top-up, requested by the debit (a
refund never charges the card), on the balance it saw (PostgreSQL holds the account
row; SQLite queues the writers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.sqlalchemy.tables import auto_top_ups, outbox
from adapters.sqlalchemy.uow import uow_factory
from application.queries import verify_ledger
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.spending.debit import debit
from application.webhooks.events import PaymentRef, RefundsReported
from application.webhooks.handle_gateway_event import handle_gateway_event
from domain.alerts import AlertSettings
from domain.auto_top_up import AutoTopUpSettings
from domain.ledger import purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.spending import Debit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USERS = 20
TOP_UP = AutoTopUpSettings(True, threshold_credits=500, amount=1000, monthly_limit=5000)


async def _user(engine: AsyncEngine, n: int) -> None:
    """1000 credits bought, 400 spent: 600 available, 100 above the threshold."""
    user = f"u{n}"
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account(user)
        payment = Payment(
            f"pay_{n}", user, PaymentKind.PAYMENT_INTENT, 1000, "usd", 1000,
            PaymentStatus.COMPLETED, NOW, stripe_payment_intent_id=f"pi_{n}", completed_at=NOW,
        )  # fmt: skip
        await uow.payments.add(payment)
        await uow.ledger.post(purchase_posting(user, payment.id, 1000), NOW)
        await uow.alerts.save_settings(user, AlertSettings(low_balance_threshold=500), NOW)
        await uow.auto_top_ups.save_settings(user, TOP_UP, NOW)
        await uow.commit()
    await debit(Debit(user, 400, "seed"), uow_factory=uow_factory(engine), clock=FixedClock(NOW))


async def _refund(engine: AsyncEngine, n: int, event_id: str) -> None:
    """200 of the 1000 cents refunded: 200 credits taken back."""
    refund = GatewayRefund(f"re_{n}", f"pi_{n}", 200, "usd", RefundStatus.SUCCEEDED)
    event = RefundsReported(
        event_id=event_id,
        type="charge.refunded",
        payment=PaymentRef(intent_id=f"pi_{n}"),
        refunds=(refund,),
    )
    await handle_gateway_event(
        event,
        uow_factory=uow_factory(engine),
        gateway=MemoryGateway(lambda: NOW),
        clock=FixedClock(NOW),
    )


async def _spend(engine: AsyncEngine, n: int) -> None:
    await debit(Debit(f"u{n}", 200, "race"), uow_factory=uow_factory(engine), clock=FixedClock(NOW))


async def _told(engine: AsyncEngine) -> list[tuple[str, str, dict[str, object]]]:
    query = select(outbox.c.user_id, outbox.c.type, outbox.c.payload)
    async with engine.connect() as conn:
        return [(row.user_id, row.type, row.payload) for row in await conn.execute(query)]


def _racers(engine: AsyncEngine, n: int) -> list[Coroutine[Any, Any, None]]:
    """The refund (told twice) and the debit, in an order that alternates by user."""
    refund, again = _refund(engine, n, f"evt_charge_{n}"), _refund(engine, n, f"evt_refund_{n}")
    spend = _spend(engine, n)
    return [refund, spend, again] if n % 2 else [spend, refund, again]


def _per_user(rows: list[tuple[str, str, dict[str, object]]], type_: str) -> dict[str, int]:
    return dict(Counter(user for user, kind, _ in rows if kind == type_))


async def test_a_refund_and_a_debit_racing_across_the_threshold_top_up_once(
    engine: AsyncEngine,
) -> None:
    for n in range(USERS):
        await _user(engine, n)

    await asyncio.gather(*(race for n in range(USERS) for race in _racers(engine, n)))

    everyone = {f"u{n}": 1 for n in range(USERS)}
    async with engine.connect() as conn:
        rows = (await conn.execute(select(auto_top_ups.c.user_id))).all()
    assert Counter(row.user_id for row in rows) == everyone
    told = await _told(engine)
    for type_ in ("auto_top_up.requested", "credits.low_balance", "credits.reversed"):
        assert _per_user(told, type_) == everyone, type_
    # The alert: decided by whichever change crossed, in its own transaction, when 400
    # were left. The top-up: by the debit, after the refund (200 left) or before (400).
    lows = [data for _, kind, data in told if kind == "credits.low_balance"]
    assert {data["available"] for data in lows} == {400}
    requested = [data for _, kind, data in told if kind == "auto_top_up.requested"]
    assert {data["available"] for data in requested} <= {200, 400}
    async with uow_factory(engine)() as uow:
        for n in range(USERS):
            account = await uow.ledger.account(f"u{n}")
            assert account is not None and account.available == 200
    assert await verify_ledger(uow_factory=uow_factory(engine)) == []
