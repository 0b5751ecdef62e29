"""The batch jobs on SQLite and PostgreSQL: whole jobs over the SQL unit of work with the
memory gateway (webhooks lost). Their queries are in the repository contract tests."""

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
from domain.ledger import EntryKind, Posting, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TTL = timedelta(hours=24)


def payment(payment_id: str, user_id: str) -> Payment:
    return Payment(
        id=payment_id,
        user_id=user_id,
        kind=PaymentKind.CHECKOUT,
        amount=1000,
        currency="usd",
        credits=1000,
        status=PaymentStatus.PENDING,
        created_at=T0,
        expires_at=T0 + HOUR,
    )


async def status_of(engine: AsyncEngine, payment_id: str) -> PaymentStatus:
    async with uow_factory(engine)() as uow:
        found = await uow.payments.get(payment_id)
    assert found is not None
    return found.status


async def balance_of(engine: AsyncEngine, user_id: str) -> int:
    """The cached balance, after checking it against the entries."""
    async with uow_factory(engine)() as uow:
        account = await uow.ledger.account(user_id)
        assert await uow.audit.verify() == []
    assert account is not None
    return account.balance


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
