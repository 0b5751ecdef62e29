"""The summary and the user view with spending, disputes and subscriptions, on memory,
SQLite and PostgreSQL alike.

A history built by hand through the ports: a payment partly refunded, then lost to a
dispute (and lost again under a second dispute id, which must not count twice), a
hold captured and one still active, a subscription with its grant and rollover, an
operator's adjustment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.admin.summary import summarise, timeseries
from application.admin.users import view_user
from application.ports import UnitOfWorkFactory
from application.refunds.gateway import GatewayRefund, RefundStatus
from domain.disputes import Dispute, DisputeStatus
from domain.holds import Hold, HoldKind, HoldStatus
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.subscription import Subscription, SubscriptionStatus
from domain.user import User

DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)
HOUR = timedelta(hours=1)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


def dispute(did: str, status: DisputeStatus, at: datetime) -> Dispute:
    return Dispute(did, "p1", "alice", status, DAY1 + HOUR, at)


def hold(hid: str, status: HoldStatus, captured: int) -> Hold:
    return Hold(
        id=hid,
        user_id="alice",
        credits=300,
        kind=HoldKind.USAGE,
        idempotency_key=f"k-{hid}",
        created_at=DAY2,
        expires_at=DAY3 + timedelta(days=5),
        status=status,
        captured=captured,
    )


LEDGER = [
    (DAY1, 3000, EntryKind.PURCHASE),
    (DAY1, -1000, EntryKind.REFUND_REVERSAL),
    (DAY2, -300, EntryKind.HOLD_CAPTURE),
    (DAY2, -200, EntryKind.USAGE_DEBIT),
    (DAY2, -1000, EntryKind.DISPUTE_REVERSAL),
    (DAY2, 1000, EntryKind.SUBSCRIPTION_GRANT),
    (DAY3, 400, EntryKind.SUBSCRIPTION_ROLLOVER),
    (DAY3, 250, EntryKind.ADMIN_ADJUSTMENT),
]


async def history(uow: UnitOfWorkFactory) -> None:
    """alice pays 30.00 on day 1 and gets 10.00 back; the rest (20.00) is lost to a
    dispute on day 2 (a second dispute id is lost again on day 3)."""
    async with uow() as w:
        await w.users.add(User("alice", "alice@example.com", DAY1 - timedelta(days=1)))
        await w.ledger.open_account("alice")
        await w.payments.add(
            Payment(
                id="p1",
                user_id="alice",
                kind=PaymentKind.PAYMENT_INTENT,
                amount=3000,
                currency="usd",
                credits=3000,
                status=PaymentStatus.DISPUTED,
                created_at=DAY1,
                completed_at=DAY1,
                stripe_payment_intent_id="pi_p1",
                amount_refunded=1000,
                credits_reversed=1000,
                credits_disputed=1000,
            )
        )
        refund = GatewayRefund("re_1", "pi_p1", 1000, "usd", RefundStatus.SUCCEEDED)
        await w.refunds.add(refund, "p1", "alice", 1000, DAY1 + HOUR)
        await w.disputes.add(dispute("dp_1", DisputeStatus.LOST, DAY2))
        await w.disputes.add(dispute("dp_2", DisputeStatus.LOST, DAY3))
        await w.holds.add(hold("h_captured", HoldStatus.CAPTURED, 300))
        await w.holds.add(hold("h_active", HoldStatus.ACTIVE, 0))
        await w.subscriptions.add(
            Subscription(
                id="sub_1",
                user_id="alice",
                customer_id="cus_1",
                price_id="price_1",
                plan_id="basic",
                status=SubscriptionStatus.ACTIVE,
                current_period_start=DAY2,
                current_period_end=DAY2 + timedelta(days=30),
                cancel_at_period_end=True,
                created_at=DAY2,
                updated_at=DAY2,
            )
        )
        for n, (at, credits, kind) in enumerate(LEDGER):
            await w.ledger.post(Posting("alice", credits, kind, "test", f"e{n}", f"e{n}"), at)
        await w.commit()


async def test_a_lost_dispute_counts_once_and_captures_are_spent(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    clock = FixedClock(DAY3 + timedelta(days=1))
    _, t = await summarise(DAY1 - HOUR, DAY3 + HOUR, uow_factory=uow, clock=clock)

    (usd,) = t.money
    assert (usd.gross, usd.refunded, usd.disputed, usd.net) == (3000, 1000, 2000, 0)
    assert t.credits_spent == 500
    by_kind = {k.kind: (k.added, k.removed) for k in t.credits_by_kind}
    assert by_kind == {
        EntryKind.PURCHASE: (3000, 0),
        EntryKind.REFUND_REVERSAL: (0, 1000),
        EntryKind.HOLD_CAPTURE: (0, 300),
        EntryKind.USAGE_DEBIT: (0, 200),
        EntryKind.DISPUTE_REVERSAL: (0, 1000),
        EntryKind.SUBSCRIPTION_GRANT: (1000, 0),
        EntryKind.SUBSCRIPTION_ROLLOVER: (400, 0),
        EntryKind.ADMIN_ADJUSTMENT: (250, 0),
    }
    assert t.closing.net == t.opening.net + sum(a - r for a, r in by_kind.values())

    _, day3 = await summarise(DAY3 - HOUR, DAY3 + HOUR, uow_factory=uow, clock=clock)
    assert [m.disputed for m in day3.money] == []

    spent = await timeseries("credits_spent", DAY1, DAY3 + HOUR, uow_factory=uow, clock=clock)
    assert [v for _, v in spent.points] == [0, 500, 0]


async def test_the_user_view_shows_holds_subscription_and_disputes(
    uow: UnitOfWorkFactory,
) -> None:
    await history(uow)
    sections = (await view_user("alice", uow_factory=uow)).sections

    assert sections["holds"] == {
        "credits": 300,
        "rows": [
            {
                "id": "h_active",
                "credits": 300,
                "kind": "usage",
                "expires_at": (DAY3 + timedelta(days=5)).isoformat(),
            }
        ],
    }
    assert sections["subscription"] == {
        "id": "sub_1",
        "plan": "basic",
        "status": "active",
        "current_period_start": DAY2.isoformat(),
        "current_period_end": (DAY2 + timedelta(days=30)).isoformat(),
        "cancel_at_period_end": True,
    }
    assert [d["id"] for d in sections["disputes"]["rows"]] == ["dp_2", "dp_1"]  # type: ignore[index, union-attr]
    assert sections["disputes"]["rows"][0] == {  # type: ignore[index]
        "id": "dp_2",
        "payment": "p1",
        "status": "lost",
    }
