"""The batch jobs' queries on SQLite and PostgreSQL: the sweep's lease, the audit reads,
and whole jobs over the SQL unit of work with the memory gateway (webhooks lost)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.sqlalchemy.uow import uow_factory
from application.accounts.users import create_user
from application.batch import JobReport, NoControl
from application.credits.expire_credits import expire_credits
from application.ports import UnitOfWorkFactory
from application.purchases.gateway import CheckoutRequest
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from application.reconciliation.reconcile import ReconcilePolicy, reconcile
from domain.ledger import EntryKind, Posting, purchase_key, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TTL = timedelta(hours=24)


def payment(
    payment_id: str,
    kind: PaymentKind = PaymentKind.CHECKOUT,
    status: PaymentStatus = PaymentStatus.PENDING,
    created_at: datetime = T0,
    user_id: str = "usr_1",
    session_id: str | None = None,
) -> Payment:
    return Payment(
        id=payment_id,
        user_id=user_id,
        kind=kind,
        amount=1000,
        currency="usd",
        credits=1000,
        status=status,
        created_at=created_at,
        expires_at=created_at + HOUR,
        stripe_session_id=session_id,
    )


async def add(engine: AsyncEngine, *payments: Payment) -> None:
    async with uow_factory(engine)() as uow:
        for item in payments:
            await uow.payments.add(item)
        await uow.commit()


async def status_of(engine: AsyncEngine, payment_id: str) -> PaymentStatus:
    async with uow_factory(engine)() as uow:
        found = await uow.payments.get(payment_id)
    assert found is not None
    return found.status


async def balance_of(engine: AsyncEngine, user_id: str) -> int:
    """The cached balance, after checking it against the entries."""
    async with uow_factory(engine)() as uow:
        account = await uow.ledger.account(user_id)
        assert await uow.ledger.verify() == []
    assert account is not None
    return account.balance


async def claim(engine: AsyncEngine, now: datetime, limit: int = 10) -> set[str]:
    async with uow_factory(engine)() as uow:
        claimed = await uow.payments.claim_stale(now, now - TTL, now + 5 * HOUR / 60, limit)
        await uow.commit()
    return {p.id for p in claimed}


async def test_claim_takes_stale_open_payments_and_leases_them(engine: AsyncEngine) -> None:
    await add(
        engine,
        payment("stale_checkout"),
        payment("failed_checkout", status=PaymentStatus.FAILED),
        payment("fresh_checkout", created_at=T0 + HOUR),
        payment("paid_checkout", status=PaymentStatus.COMPLETED),
        payment("old_intent", PaymentKind.PAYMENT_INTENT, created_at=T0 - TTL),
        payment("young_intent", PaymentKind.PAYMENT_INTENT),
    )
    now = T0 + HOUR

    first = await claim(engine, now)
    leased = await claim(engine, now + timedelta(minutes=4))
    released = await claim(engine, now + timedelta(minutes=5))

    assert first == {"stale_checkout", "failed_checkout", "old_intent"}
    assert leased == set()
    assert released == first


async def test_claim_respects_the_limit_and_a_leased_row_still_maps(engine: AsyncEngine) -> None:
    await add(engine, *(payment(f"p{n}") for n in range(5)))

    first, second = await claim(engine, T0 + HOUR, 3), await claim(engine, T0 + HOUR, 3)

    assert (len(first), len(second), first & second) == (3, 2, set())
    async with uow_factory(engine)() as uow:
        row = await uow.payments.get("p0", for_update=True)
        assert row is not None
        row.expire(T0 + HOUR)
        await uow.payments.save(row)
        await uow.commit()
    assert await status_of(engine, "p0") is PaymentStatus.EXPIRED


async def test_audit_reads_find_entries_by_key_and_by_window(engine: AsyncEngine) -> None:
    async with uow_factory(engine)() as uow:
        await uow.ledger.open_account("u1")
        for n in range(3):
            await uow.ledger.post(purchase_posting("u1", f"pay_{n}", 10), T0 + n * HOUR)
        await uow.ledger.post(
            Posting("u1", -5, EntryKind.USAGE_DEBIT, "request", "r1", "debit:r1"), T0 + 3 * HOUR
        )
        await uow.commit()
    async with uow_factory(engine)() as uow:
        found = await uow.ledger.find_entry(purchase_key("pay_1"))
        missing = await uow.ledger.find_entry(purchase_key("pay_9"))
        window = await uow.ledger.entries_since(EntryKind.PURCHASE, T0 + HOUR, 0, 10)
        page = await uow.ledger.entries_since(EntryKind.PURCHASE, T0, window[0].id, 1)
    assert found is not None and (found.reference_id, found.credits) == ("pay_1", 10)
    assert missing is None
    assert [e.reference_id for e in window] == ["pay_1", "pay_2"]
    assert [e.reference_id for e in page] == ["pay_2"]


async def test_sweep_and_reconcile_on_sql_recover_lost_webhooks(engine: AsyncEngine) -> None:
    clock = FixedClock(T0)
    gateway = MemoryGateway(clock.now)
    factory = uow_factory(engine)
    paid, unpaid = [await _open_checkout(factory, gateway, clock, n) for n in range(2)]
    assert paid.stripe_session_id is not None
    await gateway.pay_checkout(paid.stripe_session_id, "4242424242424242", "never")
    clock.advance(2 * HOUR)

    async def run_reconcile() -> JobReport:
        policy = ReconcilePolicy(since=timedelta(hours=72))
        return await reconcile(
            uow_factory=factory, gateway=gateway, clock=clock, policy=policy, control=NoControl()
        )

    reconciled = await run_reconcile()
    swept = await expire_stale_sessions(
        uow_factory=factory,
        gateway=gateway,
        clock=clock,
        policy=SweepPolicy(intent_ttl=TTL),
        control=NoControl(),
    )
    await run_reconcile()  # applies the expiry event the sweep made at the gateway
    again = await run_reconcile()

    assert reconciled.counts["granted"] == 1 and reconciled.ok
    assert swept.counts == {"expired": 1}
    assert set(again.counts) == {"events", "already_processed"} and again.ok
    assert await status_of(engine, paid.id) is PaymentStatus.COMPLETED
    assert await status_of(engine, unpaid.id) is PaymentStatus.EXPIRED
    assert await balance_of(engine, paid.user_id) == 1000


async def _open_checkout(
    factory: UnitOfWorkFactory, gateway: MemoryGateway, clock: FixedClock, n: int
) -> Payment:
    created = await create_user(f"u{n}@example.com", uow_factory=factory, clock=clock)
    item = payment(f"pay_{n}", user_id=created.user.id)
    session = await gateway.create_checkout(
        CheckoutRequest(
            item.id,
            item.user_id,
            1000,
            "usd",
            1000,
            "credits",
            "https://a.test/ok",
            "https://a.test/no",
            T0 + HOUR,
            f"checkout:{item.id}",
        )
    )
    item.stripe_session_id = session.session_id
    async with factory() as uow:
        await uow.payments.add(item)
        await uow.commit()
    return item


async def test_credit_expiry_on_sql_is_idempotent_and_spares_spent_credits(
    engine: AsyncEngine,
) -> None:
    factory = uow_factory(engine)
    async with factory() as uow:
        await uow.ledger.open_account("u1")
        trial = Posting("u1", 1000, EntryKind.TRIAL, "trial", "t1", "trial:u1", T0 + HOUR)
        await uow.ledger.post(trial, T0)
        await uow.ledger.post(purchase_posting("u1", "pay_1", 500), T0)
        await uow.ledger.post(Posting("u1", -400, EntryKind.USAGE_DEBIT, "req", "r", "d:r"), T0)
        await uow.commit()
    clock = FixedClock(T0 + 2 * HOUR)

    first, second = [
        await expire_credits(uow_factory=factory, clock=clock, batch_size=10, control=NoControl())
        for _ in range(2)
    ]

    assert first.counts == {"lots_expired": 1, "credits_expired": 600}
    assert second.counts == {} and second.ok
    assert await balance_of(engine, "u1") == 500
