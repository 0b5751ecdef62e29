"""``expire_credits`` on the memory ledger: only the unspent part expires, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from application.batch import JobReport, NoControl
from application.credits.expire_credits import expire_credits
from application.ports import UnitOfWorkFactory
from domain.ledger import EntryKind, Posting, purchase_posting
from tests.unit.conftest import T0, App

LATER = T0 + timedelta(days=30)


async def grant(
    uow_factory: UnitOfWorkFactory,
    user_id: str,
    credits: int,
    key: str,
    expires_at: datetime = LATER,
) -> None:
    posting = Posting(user_id, credits, EntryKind.TRIAL, "trial", key, key, expires_at=expires_at)
    async with uow_factory() as uow:
        await uow.ledger.post(posting, T0)
        await uow.commit()


async def spend(uow_factory: UnitOfWorkFactory, user_id: str, credits: int, key: str) -> None:
    async with uow_factory() as uow:
        await uow.ledger.post(
            Posting(user_id, -credits, EntryKind.USAGE_DEBIT, "request", key, key), T0
        )
        await uow.commit()


async def run(app: App, batch_size: int = 100) -> JobReport:
    return await expire_credits(
        uow_factory=app.store.uow_factory,
        clock=app.clock,
        batch_size=batch_size,
        control=NoControl(),
    )


async def test_only_the_unspent_part_expires_and_a_rerun_changes_nothing(app: App) -> None:
    user = await app.user()
    await grant(app.store.uow_factory, user, 1000, "trial:1")
    await spend(app.store.uow_factory, user, 300, "req:1")
    app.clock.advance(timedelta(days=31))

    first = await run(app)
    second = await run(app)

    assert app.balance(user) == 0
    expiries = [e for e in app.entries(user) if e.kind is EntryKind.EXPIRY]
    assert [e.credits for e in expiries] == [-700]
    assert first.counts == {"lots_expired": 1, "credits_expired": 700}
    assert second.counts == {} and second.ok
    assert await app.mismatches() == []


async def test_spent_credits_never_expire_and_purchases_never_do(app: App) -> None:
    user = await app.user()
    async with app.store.uow() as uow:
        await uow.ledger.post(purchase_posting(user, "pay_1", 500), T0)
        await uow.commit()
    await grant(app.store.uow_factory, user, 200, "trial:spent")
    await spend(app.store.uow_factory, user, 300, "req:1")  # the expiring lot goes first
    app.clock.advance(timedelta(days=31))

    report = await run(app)

    assert report.counts == {}
    assert app.balance(user) == 400
    assert not [e for e in app.entries(user) if e.kind is EntryKind.EXPIRY]


async def test_lots_not_yet_expired_are_kept_and_each_user_expires_alone(app: App) -> None:
    users = [await app.user() for _ in range(3)]
    for n, user in enumerate(users):
        await grant(app.store.uow_factory, user, 100 + n, f"trial:{n}")
        await grant(app.store.uow_factory, user, 50, f"promo:{n}", LATER + timedelta(days=30))
    app.clock.advance(timedelta(days=31))

    report = await run(app, batch_size=2)

    assert report.counts == {"lots_expired": 3, "credits_expired": 303}
    assert [app.balance(user) for user in users] == [50, 50, 50]
