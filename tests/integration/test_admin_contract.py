"""The operator's reads and adjustments, on memory, SQLite and PostgreSQL alike.

A history is built by hand through the ports at known times (payments completed and
refunded, grants, spending, an expiry, gateway events); the summary and the daily
series must add up to exactly what was built, and the closing liability must equal
the sum of the accounts that ``ledger verify`` checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.admin.adjust_credits import adjust_credits
from application.admin.payments import export_payments, list_payments
from application.admin.ports import PaymentFilter
from application.admin.summary import summarise, timeseries
from application.admin.users import search_users, user_ledger, view_user
from application.ports import UnitOfWorkFactory
from application.queries import verify_ledger
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent
from domain.admin import Adjustment, AdjustmentLimits
from domain.errors import (
    AdminDailyGrantLimit,
    AdminGrantTooLarge,
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.user import User

DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)
BEFORE = DAY1 - timedelta(days=10)
LIMITS = AdjustmentLimits(max_grant=5000, daily_grant_limit=8000)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


def payment(pid: str, user: str, amount: int, status: PaymentStatus, at: datetime) -> Payment:
    return Payment(
        id=pid,
        user_id=user,
        kind=PaymentKind.PAYMENT_INTENT,
        amount=amount,
        currency="usd",
        credits=amount,
        status=status,
        created_at=at,
        completed_at=at if status is not PaymentStatus.PENDING else None,
        stripe_payment_intent_id=f"pi_{pid}",
    )


def posting(user: str, credits: int, kind: EntryKind, key: str) -> Posting:
    return Posting(user, credits, kind, "test", key, key)


async def history(uow: UnitOfWorkFactory) -> None:
    """alice pays 50.00 before the window and 30.00 on day 1, spends 1200 on day 2 and
    gets 10.00 back on day 3; bob pays 20.00 on day 2 and a 500 credit coupon; carol's
    payment is still pending. Two gateway events: one granted, one rejected."""
    async with uow() as w:
        for uid, email in (
            ("alice", "alice@example.com"),
            ("bob", "bob@shop.example"),
            ("carol", "carol@example.com"),
        ):
            await w.users.add(User(uid, email, BEFORE + timedelta(minutes=len(uid))))
            await w.ledger.open_account(uid)
        await w.payments.add(payment("p0", "alice", 5000, PaymentStatus.COMPLETED, BEFORE))
        await w.ledger.post(posting("alice", 5000, EntryKind.PURCHASE, "g0"), BEFORE)
        await w.payments.add(payment("p1", "alice", 3000, PaymentStatus.PARTIALLY_REFUNDED, DAY1))
        await w.ledger.post(posting("alice", 3000, EntryKind.PURCHASE, "g1"), DAY1)
        await w.ledger.post(posting("alice", -1200, EntryKind.USAGE_DEBIT, "d1"), DAY2)
        await w.payments.add(payment("p2", "bob", 2000, PaymentStatus.COMPLETED, DAY2))
        await w.ledger.post(posting("bob", 2000, EntryKind.PURCHASE, "g2"), DAY2)
        await w.ledger.post(posting("bob", 500, EntryKind.COUPON, "c2"), DAY2)
        await w.payments.add(payment("p3", "carol", 700, PaymentStatus.PENDING, DAY2))
        refund = GatewayRefund("re_1", "pi_p1", 1000, "usd", RefundStatus.SUCCEEDED)
        await w.refunds.add(refund, "p1", "alice", 1000, DAY3)
        await w.ledger.post(posting("alice", -1000, EntryKind.REFUND_REVERSAL, "r1"), DAY3)
        for eid, outcome in (("evt_1", "granted"), ("evt_2", "rejected_amount_mismatch")):
            await w.events.claim(GatewayEvent(event_id=eid, type="payment_intent.succeeded"), DAY2)
            await w.events.set_outcome(eid, outcome, None)
        await w.commit()


async def test_the_summary_adds_up_to_the_history(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    clock = FixedClock(DAY3 + timedelta(days=1))
    _, t = await summarise(
        DAY1 - timedelta(hours=1), DAY3 + timedelta(hours=1), uow_factory=uow, clock=clock
    )

    (usd,) = t.money
    assert (usd.gross, usd.refunded, usd.net) == (5000, 1000, 4000)
    by_kind = {k.kind: (k.added, k.removed) for k in t.credits_by_kind}
    assert by_kind == {
        EntryKind.PURCHASE: (5000, 0),
        EntryKind.COUPON: (500, 0),
        EntryKind.USAGE_DEBIT: (0, 1200),
        EntryKind.REFUND_REVERSAL: (0, 1000),
    }
    assert (t.opening.credits, t.opening.debt) == (5000, 0)
    assert (t.closing.credits, t.closing.debt) == (5000 + 3000 - 1200 - 1000 + 2500, 0)
    window_moves = sum(a - r for a, r in by_kind.values())
    assert t.closing.net == t.opening.net + window_moves
    statuses = {(s.status, s.count, s.amount) for s in t.payments_by_status}
    assert statuses == {
        ("partially_refunded", 1, 3000),
        ("completed", 1, 2000),
        ("pending", 1, 700),
    }
    assert dict(t.webhook_outcomes) == {"granted": 1, "rejected_amount_mismatch": 1}


async def test_at_the_present_the_liability_is_what_ledger_verify_checks(
    uow: UnitOfWorkFactory,
) -> None:
    await history(uow)
    _, t = await summarise(None, None, uow_factory=uow, clock=FixedClock(DAY3 + timedelta(1)))
    assert await verify_ledger(uow_factory=uow) == []
    async with uow() as w:
        balances = [(await w.ledger.account(u)) for u in ("alice", "bob", "carol")]
    assert t.closing.credits == sum(a.balance for a in balances if a is not None)


async def test_daily_series_are_per_utc_day_with_zeros(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    clock = FixedClock(DAY3)
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
    gross = await timeseries("gross", start, end, uow_factory=uow, clock=clock)
    assert [v for _, v in gross.points] == [3000, 2000, 0, 0]
    refunded = await timeseries("refunded", start, end, uow_factory=uow, clock=clock)
    assert [v for _, v in refunded.points] == [0, 0, 1000, 0]
    granted = await timeseries("credits_granted", start, end, uow_factory=uow, clock=clock)
    assert [v for _, v in granted.points] == [3000, 2500, 0, 0]
    spent = await timeseries("credits_spent", start, end, uow_factory=uow, clock=clock)
    assert [v for _, v in spent.points] == [0, 1200, 0, 0]
    with pytest.raises(ValidationFailed) as bad:
        await timeseries("nonsense", start, end, uow_factory=uow, clock=clock)
    assert bad.value.code == "invalid_metric"
    with pytest.raises(ValidationFailed) as bad:
        await timeseries("gross", start, end, "week", uow_factory=uow, clock=clock)
    assert bad.value.code == "invalid_interval"


async def test_users_are_found_by_email_or_part_of_it_and_paged(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    exact = await search_users("ALICE@example.com", None, None, None, uow_factory=uow)
    assert [r.user.id for r in exact.items] == ["alice"]
    assert exact.items[0].account.balance == 5800
    part = await search_users(None, "example.com", 1, None, uow_factory=uow)
    assert [r.user.id for r in part.items] == ["carol"] and part.next_cursor
    rest = await search_users(None, "example.com", 1, part.next_cursor, uow_factory=uow)
    assert [r.user.id for r in rest.items] == ["alice"]
    wildcard = await search_users(None, "%", None, None, uow_factory=uow)
    assert wildcard.items == []
    by_id = await search_users(None, "bob", None, None, uow_factory=uow)
    assert [r.user.id for r in by_id.items] == ["bob"]


async def test_a_users_view_and_ledger(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    view = await view_user("alice", uow_factory=uow)
    assert (view.account.balance, [p.id for p in view.recent_payments]) == (5800, ["p1", "p0"])
    assert "referral" in view.sections
    page = await user_ledger("alice", 2, None, uow_factory=uow)
    assert [e.credits for e in page.items] == [-1000, -1200] and page.next_cursor
    with pytest.raises(NotFound):
        await view_user("nobody", uow_factory=uow)


async def test_payments_filter_and_export_every_match(uow: UnitOfWorkFactory) -> None:
    await history(uow)
    completed = await list_payments(PaymentFilter(status="completed"), None, None, uow_factory=uow)
    assert [p.id for p in completed.items] == ["p2", "p0"]
    in_window = PaymentFilter(created_from=DAY1, created_to=DAY3)
    first = await list_payments(in_window, 2, None, uow_factory=uow)
    assert len(first.items) == 2 and first.next_cursor
    rest = await list_payments(in_window, 2, first.next_cursor, uow_factory=uow)
    assert [p.id for p in [*first.items, *rest.items]] == ["p3", "p2", "p1"]
    exported = [
        p.id async for p in export_payments(PaymentFilter(user_id="alice"), uow_factory=uow)
    ]
    assert exported == ["p1", "p0"]
    with pytest.raises(ValidationFailed):
        await list_payments(PaymentFilter(status="bogus"), None, None, uow_factory=uow)


async def adjust(
    uow: UnitOfWorkFactory, credits: int, key: str, admin: str = "operator_a", **kw: object
) -> object:
    adjustment = Adjustment("bob", credits, "support ticket 1234", key, **kw)  # type: ignore[arg-type]
    return await adjust_credits(
        adjustment, admin, limits=LIMITS, uow_factory=uow, clock=FixedClock(DAY3)
    )


async def test_adjustments_are_capped_per_grant_and_per_key_per_day(
    uow: UnitOfWorkFactory,
) -> None:
    await history(uow)
    with pytest.raises(AdminGrantTooLarge):
        await adjust(uow, 5001, "too-big")
    await adjust(uow, 5000, "a")
    await adjust(uow, -2000, "b")  # a debit does not count towards the grant limit
    with pytest.raises(AdminDailyGrantLimit):
        await adjust(uow, 3001, "c")
    await adjust(uow, 3000, "c")
    await adjust(uow, 100, "other-key", admin="operator_b")
    async with uow() as w:
        account = await w.ledger.account("bob")
        entries = (await w.ledger.entries("bob", 10, None)).items
    assert account is not None and account.balance == 2500 + 5000 - 2000 + 3000 + 100
    admin_entries = [e for e in entries if e.kind is EntryKind.ADMIN_ADJUSTMENT]
    assert {e.reference_id for e in admin_entries} == {"operator_a", "operator_b"}
    assert await verify_ledger(uow_factory=uow) == []


async def test_an_adjustment_is_once_per_key_and_never_overdraws_unless_asked(
    uow: UnitOfWorkFactory,
) -> None:
    await history(uow)
    first = await adjust(uow, 100, "same")
    again = await adjust(uow, 100, "same")
    assert again.replayed and again.adjustment == first.adjustment  # type: ignore[attr-defined]
    with pytest.raises(IdempotencyKeyReused):
        await adjust(uow, 200, "same")
    with pytest.raises(InsufficientCredits):
        await adjust(uow, -5000, "overdraw")
    debt = await adjust(uow, -5000, "debt", allow_debt=True)
    assert debt.adjustment.balance_after == 2600 - 5000  # type: ignore[attr-defined]
    async with uow() as w:
        types = [m.type for m in await w.outbox.pending(50)]
    assert types.count("credits.adjusted") == 2
    with pytest.raises(NotFound):
        await adjust_credits(
            Adjustment("nobody", 1, "support ticket", "x"),
            "operator_a",
            limits=LIMITS,
            uow_factory=uow,
            clock=FixedClock(DAY3),
        )


async def test_concurrent_grants_of_one_key_cannot_pass_the_daily_limit_together(
    uow: UnitOfWorkFactory,
) -> None:
    await history(uow)
    results = await asyncio.gather(
        *(adjust(uow, 5000, f"race-{n}") for n in range(3)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AdminDailyGrantLimit) for r in results if isinstance(r, Exception))
