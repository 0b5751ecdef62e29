"""One contract for every adapter of the persistence ports: memory, SQLite, PostgreSQL.

Each test states a behaviour the use cases rely on and checks the resulting state
through the ports; three hooks reach under them only to tamper with a balance, to
hold credits (nothing writes holds yet) and to read an event's recorded outcome,
which the ports deliberately do not expose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.tables import accounts, processed_events
from adapters.sqlalchemy.uow import uow_factory
from application.ports import RecordedRefund, UnitOfWorkFactory
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent
from domain.errors import (
    Conflict,
    EmailTaken,
    InsufficientCredits,
    LotChanged,
    NotFound,
    RequestInProgress,
    ValidationFailed,
)
from domain.ledger import (
    BalanceMismatch,
    EntryKind,
    Lot,
    Posting,
    expiry_posting,
    purchase_key,
    purchase_posting,
    refund_posting,
)
from domain.lots import covers
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.sweep import is_stale
from domain.user import ApiKey, User

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Backend:
    uow: UnitOfWorkFactory
    set_balance: Callable[[str, int], Awaitable[None]]
    set_held: Callable[[str, int], Awaitable[None]]
    outcome_of: Callable[[str], Awaitable[tuple[str | None, str | None]]]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    )
    return url


@pytest.fixture
async def backend(backend_url: str | None) -> AsyncIterator[Backend]:
    if backend_url is None:
        store = MemoryStore()

        async def set_memory_balance(user_id: str, balance: int) -> None:
            account = store.state.accounts[user_id]
            store.state.accounts[user_id] = replace(account, balance=balance)

        async def set_memory_held(user_id: str, held: int) -> None:
            account = store.state.accounts[user_id]
            store.state.accounts[user_id] = replace(account, held=held)

        async def memory_outcome(event_id: str) -> tuple[str | None, str | None]:
            event = store.state.events[event_id]
            return event.outcome, event.detail

        yield Backend(store.uow_factory, set_memory_balance, set_memory_held, memory_outcome)
        return
    engine = make_engine(backend_url)

    async def set_sql_balance(user_id: str, balance: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(accounts).where(accounts.c.user_id == user_id).values(balance=balance)
            )

    async def set_sql_held(user_id: str, held: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(accounts).where(accounts.c.user_id == user_id).values(held=held)
            )

    async def sql_outcome(event_id: str) -> tuple[str | None, str | None]:
        columns = processed_events.c.outcome, processed_events.c.detail
        statement = select(*columns).where(processed_events.c.event_id == event_id)
        async with engine.connect() as conn:
            outcome, detail = (await conn.execute(statement)).one()
        return outcome, detail

    yield Backend(uow_factory(engine), set_sql_balance, set_sql_held, sql_outcome)
    await engine.dispose()


def grant(user_id: str, credits: int, key: str) -> Posting:
    return Posting(user_id, credits, EntryKind.COUPON, "test", key, key)


def debit(user_id: str, credits: int, key: str, kind: EntryKind = EntryKind.USAGE_DEBIT) -> Posting:
    return Posting(user_id, -credits, kind, "test", key, key)


def a_payment(payment_id: str, user_id: str = "u1", **changes: Any) -> Payment:
    payment = Payment(
        id=payment_id,
        user_id=user_id,
        kind=PaymentKind.CHECKOUT,
        amount=1000,
        currency="usd",
        credits=1000,
        status=PaymentStatus.PENDING,
        created_at=NOW,
    )
    return replace(payment, **changes)


def a_user(user_id: str, email: str, code: str | None = None) -> User:
    return User(id=user_id, email=email, created_at=NOW, referral_code=code)


async def open_accounts(backend: Backend, *user_ids: str) -> None:
    async with backend.uow() as uow:
        for user_id in user_ids:
            await uow.ledger.open_account(user_id)
        await uow.commit()


# ---- ledger -----------------------------------------------------------------------


async def test_post_moves_balance_and_duplicate_key_is_already_done(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        entry = await uow.ledger.post(purchase_posting("u1", "pay_1", 1000), NOW)
        await uow.commit()
    assert entry is not None and entry.balance_after == 1000 and entry.credits == 1000
    async with backend.uow() as uow:
        assert await uow.ledger.post(purchase_posting("u1", "pay_1", 1000), NOW) is None
        await uow.commit()
        account = await uow.ledger.account("u1")
        page = await uow.ledger.entries("u1", 10, None)
    assert account is not None and account.balance == 1000
    assert [e.idempotency_key for e in page.items] == ["purchase:pay_1"]


async def test_usage_debit_never_overdraws_but_a_reversal_records_debt(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 100, "g1"), NOW)
        with pytest.raises(InsufficientCredits):
            await uow.ledger.post(debit("u1", 101, "d1"), NOW)
        spent = await uow.ledger.post(debit("u1", 100, "d2"), NOW)
        reversed_ = await uow.ledger.post(debit("u1", 40, "r1", EntryKind.REFUND_REVERSAL), NOW)
        await uow.commit()
        account = await uow.ledger.account("u1")
    assert spent is not None and spent.balance_after == 0
    assert reversed_ is not None and reversed_.balance_after == -40
    assert account is not None and account.balance == -40
    async with backend.uow() as uow:
        assert await uow.audit.verify() == []


@pytest.mark.parametrize("held", [0, 30])
@pytest.mark.parametrize("kind", [EntryKind.USAGE_DEBIT, EntryKind.REFUND_REVERSAL])
async def test_a_debit_is_taken_exactly_when_the_domain_says_it_is_covered(
    backend: Backend, held: int, kind: EntryKind
) -> None:
    """The SQL's conditional balance update mirrors ``domain.lots.covers``."""
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 100, "g1"), NOW)
        await uow.commit()
    await backend.set_held("u1", held)
    for credits in (69, 70, 71, 100, 101):
        posting = debit("u1", credits, f"d{credits}", kind)
        async with backend.uow() as uow:
            account = await uow.ledger.account("u1")
            assert account is not None and account.held == held
            try:
                taken = await uow.ledger.post(posting, NOW) is not None
            except InsufficientCredits:
                taken = False
        assert taken is covers(account, posting), (credits, held, kind)


async def test_replayed_debit_is_already_done_even_when_no_longer_covered(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 100, "g1"), NOW)
        await uow.ledger.post(debit("u1", 80, "d1"), NOW)
        assert await uow.ledger.post(debit("u1", 80, "d1"), NOW) is None
        account = await uow.ledger.account("u1")
    assert account is not None and account.balance == 20


async def test_post_to_a_missing_account_is_not_found(backend: Backend) -> None:
    async with backend.uow() as uow:
        with pytest.raises(NotFound):
            await uow.ledger.post(grant("ghost", 10, "g1"), NOW)
        assert await uow.ledger.account("ghost") is None


async def test_open_account_is_idempotent(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 5, "g1"), NOW)
        await uow.ledger.open_account("u1")
        account = await uow.ledger.account("u1")
    assert account is not None and (account.balance, account.held) == (5, 0)


async def test_locking_an_account_changes_nothing_and_a_post_follows(backend: Backend) -> None:
    """What the lock serialises is shown on PostgreSQL by the reward concurrency tests."""
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.lock_account("u1")
        await uow.ledger.lock_account("ghost")
        await uow.ledger.post(grant("u1", 5, "g1"), NOW)
        await uow.commit()
        account = await uow.ledger.account("u1")
    assert account is not None and account.balance == 5


async def test_entries_page_newest_first_per_user(backend: Backend) -> None:
    await open_accounts(backend, "u1", "u2")
    async with backend.uow() as uow:
        for n in range(5):
            await uow.ledger.post(grant("u1", n + 1, f"g{n}"), NOW + timedelta(seconds=n))
            await uow.ledger.post(grant("u2", 1, f"other{n}"), NOW)
        await uow.commit()
    keys: list[str] = []
    cursor = None
    async with backend.uow() as uow:
        while True:
            page = await uow.ledger.entries("u1", 2, cursor)
            keys += [entry.idempotency_key for entry in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        with pytest.raises(ValidationFailed):
            await uow.ledger.entries("u1", 2, "not a cursor!")
    assert keys == ["g4", "g3", "g2", "g1", "g0"]


async def test_verify_finds_a_tampered_balance(backend: Backend) -> None:
    await open_accounts(backend, "u1", "u2", "u3")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 100, "g1"), NOW)
        await uow.ledger.post(grant("u2", 50, "g2"), NOW)
        await uow.commit()
    await backend.set_balance("u1", 1_000_000)
    await backend.set_balance("u3", 7)
    async with backend.uow() as uow:
        mismatches = await uow.audit.verify()
    assert sorted(mismatches, key=lambda m: m.user_id) == [
        BalanceMismatch("u1", 1_000_000, 100),
        BalanceMismatch("u3", 7, 0),
    ]


async def test_audit_finds_an_entry_by_its_key(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        made = await uow.ledger.post(purchase_posting("u1", "pay_1", 10), NOW)
        await uow.commit()
    async with backend.uow() as uow:
        found = await uow.audit.find_entry(purchase_key("pay_1"))
        assert await uow.audit.find_entry(purchase_key("pay_9")) is None
    assert made is not None and found == made


async def test_audit_reads_every_users_entries_of_a_kind_in_a_window_by_id(
    backend: Backend,
) -> None:
    await open_accounts(backend, "u1", "u2")
    async with backend.uow() as uow:
        for n in range(4):
            user_id = f"u{n % 2 + 1}"
            await uow.ledger.post(purchase_posting(user_id, f"pay_{n}", 10), NOW + n * HOUR)
        await uow.ledger.post(debit("u1", 5, "d1"), NOW + 4 * HOUR)
        await uow.commit()
    async with backend.uow() as uow:
        window = await uow.audit.entries_since(EntryKind.PURCHASE, NOW + HOUR, 0, 10)
        page = await uow.audit.entries_since(EntryKind.PURCHASE, NOW, window[0].id, 2)
        debits = await uow.audit.entries_since(EntryKind.USAGE_DEBIT, NOW, 0, 10)
        assert await uow.audit.entries_since(EntryKind.PURCHASE, NOW + 4 * HOUR, 0, 10) == []
    assert [e.reference_id for e in window] == ["pay_1", "pay_2", "pay_3"]
    assert [e.reference_id for e in page] == ["pay_2", "pay_3"]
    assert [(e.user_id, e.idempotency_key) for e in debits] == [("u1", "d1")]


# ---- ledger lots ------------------------------------------------------------------


def expiring(user_id: str, credits: int, key: str, expires_at: datetime) -> Posting:
    return Posting(user_id, credits, EntryKind.COUPON, "test", key, key, expires_at=expires_at)


def remaining(lots: Sequence[Lot]) -> list[tuple[str, int]]:
    return [(lot.idempotency_key, lot.remaining) for lot in lots]


async def test_debits_consume_the_soonest_expiring_lots_first_and_record_them(
    backend: Backend,
) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        old = await uow.ledger.post(grant("u1", 100, "old"), NOW)
        later = await uow.ledger.post(expiring("u1", 50, "later", NOW + timedelta(days=30)), NOW)
        new = await uow.ledger.post(grant("u1", 100, "new"), NOW)
        sooner = await uow.ledger.post(expiring("u1", 50, "sooner", NOW + timedelta(days=7)), NOW)
        spent = await uow.ledger.post(debit("u1", 120, "d1"), NOW)
        await uow.commit()
    assert old and later and new and sooner and spent
    async with backend.uow() as uow:
        assert await uow.lots.allocations(spent.id) == [
            (sooner.id, 50),
            (later.id, 50),
            (old.id, 20),
        ]
        assert remaining(await uow.lots.open_lots("u1")) == [("old", 80), ("new", 100)]
        assert await uow.lots.allocations(old.id) == []


async def test_a_refund_takes_its_purchase_lot_first_then_other_lots_then_debt(
    backend: Backend,
) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(purchase_posting("u1", "pay_1", 100), NOW)
        await uow.ledger.post(purchase_posting("u1", "pay_2", 100), NOW)
        await uow.ledger.post(expiring("u1", 30, "trial", NOW + timedelta(days=7)), NOW)
        await uow.ledger.post(debit("u1", 50, "d1"), NOW)  # the trial's 30, then pay_1's 20
        await uow.commit()
    async with backend.uow() as uow:
        lot = await uow.lots.lot_for_key("purchase:pay_2")
        first = await uow.lots.lot_for_key("purchase:pay_1")
        assert lot is not None and first is not None
        assert (lot.user_id, lot.credits, lot.remaining, lot.kind, lot.expires_at) == (
            "u1",
            100,
            100,
            EntryKind.PURCHASE,
            None,
        )
        refund = refund_posting("u1", "pay_2", "re_1", 150, lot_entry_id=lot.entry_id)
        taken = await uow.ledger.post(refund, NOW)
        again = refund_posting("u1", "pay_2", "re_2", 100, lot_entry_id=lot.entry_id)
        debt = await uow.ledger.post(again, NOW)
        await uow.commit()
    assert taken is not None and debt is not None
    async with backend.uow() as uow:
        assert await uow.lots.allocations(taken.id) == [(lot.entry_id, 100), (first.entry_id, 50)]
        assert await uow.lots.allocations(debt.id) == [(first.entry_id, 30)]
        account = await uow.ledger.account("u1")
        assert await uow.lots.open_lots("u1") == []
        assert await uow.lots.lot_for_key("d1") is None
        assert await uow.lots.lot_for_key("nope") is None
    assert account is not None and account.balance == -70


async def test_a_grant_repays_debt_before_its_credits_become_spendable(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        owed = await uow.ledger.post(debit("u1", 40, "r1", EntryKind.REFUND_REVERSAL), NOW)
        await uow.ledger.post(grant("u1", 30, "g1"), NOW)
        await uow.ledger.post(grant("u1", 100, "g2"), NOW)
        await uow.commit()
    assert owed is not None
    async with backend.uow() as uow:
        assert await uow.lots.allocations(owed.id) == []
        first = await uow.lots.lot_for_key("g1")
        assert first is not None and (first.credits, first.remaining) == (30, 0)
        assert remaining(await uow.lots.open_lots("u1")) == [("g2", 90)]
        with pytest.raises(InsufficientCredits):
            await uow.ledger.post(debit("u1", 91, "d1"), NOW)
        await uow.ledger.post(debit("u1", 90, "d2"), NOW)
        assert await uow.lots.open_lots("u1") == []


async def test_expiring_a_partly_spent_lot_removes_only_its_unspent_part(
    backend: Backend,
) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 100, "kept"), NOW)
        trial = await uow.ledger.post(expiring("u1", 50, "trial", NOW + timedelta(days=1)), NOW)
        await uow.ledger.post(debit("u1", 30, "d1"), NOW)
        await uow.commit()
    later = NOW + timedelta(days=2)
    async with backend.uow() as uow:
        (lot,) = await uow.lots.expired_lots(later, 10)
        entry = await uow.ledger.post(expiry_posting(lot), later)
        await uow.commit()
    assert trial is not None and (lot.entry_id, lot.remaining) == (trial.id, 20)
    assert entry is not None and (entry.credits, entry.balance_after) == (-20, 100)
    assert (entry.kind, entry.idempotency_key) == (EntryKind.EXPIRY, f"expiry:{trial.id}")
    async with backend.uow() as uow:
        assert await uow.lots.allocations(entry.id) == [(trial.id, 20)]
        assert remaining(await uow.lots.open_lots("u1")) == [("kept", 100)]
        assert await uow.lots.expired_lots(later, 10) == []
        assert await uow.audit.verify() == []


async def test_expiring_twice_is_a_no_op(backend: Backend) -> None:
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.ledger.post(expiring("u1", 50, "trial", NOW - timedelta(hours=1)), NOW)
        (lot,) = await uow.lots.expired_lots(NOW, 10)
        assert await uow.ledger.post(expiry_posting(lot), NOW) is not None
        assert await uow.ledger.post(expiry_posting(lot), NOW) is None
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.ledger.post(expiry_posting(lot), NOW) is None
        account = await uow.ledger.account("u1")
        page = await uow.ledger.entries("u1", 10, None)
    assert account is not None and account.balance == 0
    assert [entry.credits for entry in page.items] == [-50, 50]


@pytest.mark.parametrize("other_credits", [0, 100], ids=["uncovered", "covered"])
async def test_an_expiry_from_a_stale_lot_is_refused_and_changes_nothing(
    backend: Backend, other_credits: int
) -> None:
    """Stale whether or not the balance could cover it: the lot decides."""
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        if other_credits:
            await uow.ledger.post(grant("u1", other_credits, "kept"), NOW)
        await uow.ledger.post(expiring("u1", 50, "trial", NOW - timedelta(hours=1)), NOW)
        (stale,) = await uow.lots.expired_lots(NOW, 10)
        await uow.commit()
    async with backend.uow() as uow:
        await uow.ledger.post(debit("u1", 10, "d1"), NOW)  # expired lots stay spendable
        with pytest.raises(LotChanged):
            await uow.ledger.post(expiry_posting(stale), NOW)
        account = await uow.ledger.account("u1")
        assert account is not None and account.balance == other_credits + 40
        assert ("trial", 40) in remaining(await uow.lots.open_lots("u1"))
        (fresh,) = await uow.lots.expired_lots(NOW, 10)
        assert await uow.ledger.post(expiry_posting(fresh), NOW) is not None
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.audit.verify() == []
        account = await uow.ledger.account("u1")
    assert account is not None and account.balance == other_credits


async def test_expired_lots_are_the_unspent_ones_oldest_expiry_first(backend: Backend) -> None:
    await open_accounts(backend, "u1", "u2")
    hours = [("a", "u1", -3), ("b", "u1", -1), ("c", "u1", 1), ("now", "u1", 0)]
    hours += [("e", "u2", -2), ("f", "u2", -5)]
    async with backend.uow() as uow:
        await uow.ledger.post(grant("u1", 10, "never"), NOW)
        for key, user_id, hour in hours:
            posting = expiring(user_id, 10, key, NOW + timedelta(hours=hour))
            await uow.ledger.post(posting, NOW - timedelta(days=1))
        await uow.ledger.post(debit("u2", 10, "spends-f"), NOW)  # f expires soonest
        await uow.commit()
    async with backend.uow() as uow:
        assert remaining(await uow.lots.expired_lots(NOW, 10)) == [
            ("a", 10),
            ("e", 10),
            ("b", 10),
            ("now", 10),
        ]
        assert remaining(await uow.lots.expired_lots(NOW, 2)) == [("a", 10), ("e", 10)]
        with pytest.raises(ValidationFailed):
            await uow.lots.expired_lots(NOW, 0)


# ---- unit of work -----------------------------------------------------------------


async def test_leaving_without_commit_rolls_back(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.ledger.open_account("u1")
        await uow.commit()
        await uow.ledger.post(grant("u1", 10, "after-commit"), NOW)
    with pytest.raises(RuntimeError):
        async with backend.uow() as uow:
            await uow.users.add(a_user("u9", "nine@example.com"))
            raise RuntimeError("boom")
    async with backend.uow() as uow:
        account = await uow.ledger.account("u1")
        assert await uow.users.get("u9") is None
    assert account is not None and account.balance == 0


async def test_timestamps_come_back_timezone_aware_utc(backend: Backend) -> None:
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 1, 1, 13, 0, tzinfo=paris)
    await open_accounts(backend, "u1")
    async with backend.uow() as uow:
        await uow.payments.add(a_payment("p1", created_at=local, expires_at=local))
        await uow.ledger.post(grant("u1", 1, "g1"), local)
        await uow.commit()
    async with backend.uow() as uow:
        payment = await uow.payments.get("p1")
        entry = (await uow.ledger.entries("u1", 1, None)).items[0]
    assert payment is not None and payment.expires_at is not None
    for value in (payment.created_at, payment.expires_at, entry.created_at):
        assert value == NOW and value.utcoffset() == timedelta(0)
    async with backend.uow() as uow:
        with pytest.raises(Exception, match="naive datetime"):
            await uow.ledger.post(grant("u1", 1, "g2"), datetime(2026, 1, 1))


# ---- payments ---------------------------------------------------------------------


async def test_payments_add_get_save_and_find(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.payments.add(a_payment("p1", client_key="k1", client_fingerprint="f1"))
        await uow.commit()
    async with backend.uow() as uow:
        payment = await uow.payments.get("p1", for_update=True)
        assert payment is not None and payment.status is PaymentStatus.PENDING
        payment.stripe_session_id, payment.stripe_payment_intent_id = "cs_1", "pi_1"
        payment.checkout_url = "https://pay.example/cs_1"
        payment.complete(NOW + timedelta(minutes=1))
        payment.record_refund(250, NOW + timedelta(minutes=2), refund_id="re_1")
        await uow.payments.save(payment)
        await uow.commit()
    async with backend.uow() as uow:
        by_session = await uow.payments.find_by_session("cs_1", for_update=True)
        by_intent = await uow.payments.find_by_intent("pi_1", for_update=True)
        by_key = await uow.payments.find_by_client_key("u1", "k1")
        assert await uow.payments.find_by_client_key("u2", "k1") is None
        assert await uow.payments.get("nope") is None
    assert by_session == by_intent == by_key == payment
    assert by_session is not None and by_session.status is PaymentStatus.PARTIALLY_REFUNDED
    assert (by_session.amount_refunded, by_session.credits_reversed) == (250, 250)


async def test_has_purchased_counts_paid_payments_only(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.payments.add(a_payment("pay_1", user_id="b"))
        assert not await uow.payments.has_purchased("b")
        await uow.payments.save(a_payment("pay_1", user_id="b", status=PaymentStatus.REFUNDED))
        assert await uow.payments.has_purchased("b")
        assert not await uow.payments.has_purchased("c")


async def test_saving_an_unknown_payment_is_not_found(backend: Backend) -> None:
    async with backend.uow() as uow:
        with pytest.raises(NotFound):
            await uow.payments.save(a_payment("missing"))


async def test_client_key_is_unique_per_user(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.payments.add(a_payment("p1", client_key="k1"))
        await uow.payments.add(a_payment("p2", user_id="u2", client_key="k1"))
        with pytest.raises(RequestInProgress):
            await uow.payments.add(a_payment("p3", client_key="k1"))
        with pytest.raises(Conflict):
            await uow.payments.add(a_payment("p1"))
        await uow.payments.add(a_payment("p4", client_key="k2"))
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.payments.get("p3") is None
        assert await uow.payments.get("p4") is not None


async def test_list_for_user_is_stable_newest_first(backend: Backend) -> None:
    times = [NOW, NOW, NOW + timedelta(seconds=1), NOW + timedelta(seconds=1), NOW]
    async with backend.uow() as uow:
        for n, created_at in enumerate(times):
            await uow.payments.add(a_payment(f"p{n}", created_at=created_at))
        await uow.payments.add(a_payment("theirs", user_id="u2"))
        await uow.commit()
    seen: list[str] = []
    cursor = None
    async with backend.uow() as uow:
        for _ in range(3):
            page = await uow.payments.list_for_user("u1", 2, cursor)
            seen += [p.id for p in page.items]
            cursor = page.next_cursor
    assert seen == ["p3", "p2", "p4", "p1", "p0"] and cursor is None


TTL = timedelta(hours=24)
LEASE = timedelta(minutes=5)


async def claim(backend: Backend, now: datetime, limit: int = 10) -> set[str]:
    async with backend.uow() as uow:
        claimed = await uow.payments.claim_stale(now, now - TTL, now + LEASE, limit)
        await uow.commit()
    return {p.id for p in claimed}


def stale_candidates() -> list[Payment]:
    """Both kinds, every status, on both sides of each boundary (and a missing expiry)."""
    found = []
    for status in PaymentStatus:
        for offset in (-1, 0, 1):
            moved = NOW + timedelta(seconds=offset)
            name = f"{status.value}{offset:+d}"
            found.append(a_payment(f"cs_{name}", status=status, expires_at=moved))
            intent = a_payment(f"pi_{name}", kind=PaymentKind.PAYMENT_INTENT, status=status)
            found.append(replace(intent, created_at=moved - TTL, expires_at=NOW + TTL))
        found.append(a_payment(f"cs_{status.value}_never", status=status, expires_at=None))
    return found


async def test_claim_stale_takes_what_the_domain_calls_stale(backend: Backend) -> None:
    """The SQL's WHERE clause mirrors ``domain.sweep.is_stale``: both agree on every row."""
    candidates = stale_candidates()
    async with backend.uow() as uow:
        for payment in candidates:
            await uow.payments.add(payment)
        await uow.commit()
    expected = {p.id for p in candidates if is_stale(p, NOW, NOW - TTL)}
    assert expected and await claim(backend, NOW, limit=len(candidates)) == expected


async def test_a_claimed_payment_is_leased_until_its_lease_runs_out(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.payments.add(a_payment("stale", expires_at=NOW))
        await uow.payments.add(a_payment("fresh", expires_at=NOW + timedelta(hours=1)))
        await uow.commit()
    first = await claim(backend, NOW)
    leased = await claim(backend, NOW + LEASE - timedelta(seconds=1))
    released = await claim(backend, NOW + LEASE)
    assert (first, leased, released) == ({"stale"}, set(), {"stale"})


async def test_claims_respect_the_limit_and_a_claimed_payment_still_saves(
    backend: Backend,
) -> None:
    async with backend.uow() as uow:
        for n in range(5):
            await uow.payments.add(a_payment(f"p{n}", expires_at=NOW))
        await uow.commit()
    first, second = await claim(backend, NOW, 3), await claim(backend, NOW, 3)
    assert (len(first), len(second), first & second) == (3, 2, set())
    async with backend.uow() as uow:
        row = await uow.payments.get("p0", for_update=True)
        assert row is not None and row.expire(NOW)
        await uow.payments.save(row)
        await uow.commit()
    async with backend.uow() as uow:
        saved = await uow.payments.get("p0")
    assert saved is not None and saved.status is PaymentStatus.EXPIRED


# ---- events and refunds -----------------------------------------------------------


async def test_an_event_is_claimed_once(backend: Backend) -> None:
    event = GatewayEvent(event_id="evt_1", type="payment_intent.succeeded")
    async with backend.uow() as uow:
        assert await uow.events.claim(event, NOW) is True
        await uow.events.set_outcome("evt_1", "granted", "pay_1")
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.events.claim(event, NOW) is False
    assert await backend.outcome_of("evt_1") == ("granted", "pay_1")


async def test_a_refund_is_recorded_once(backend: Backend) -> None:
    refund = GatewayRefund("re_1", "pi_1", 500, "usd", RefundStatus.SUCCEEDED)
    async with backend.uow() as uow:
        assert await uow.refunds.add(refund, "p1", "u1", 500, NOW) is True
        assert await uow.refunds.add(refund, "p1", "u1", 500, NOW) is False
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.refunds.credits_reversed("re_1") == 500
        assert await uow.refunds.credits_reversed("re_2") is None


async def test_a_refunds_status_moves_and_its_payments_refunds_are_listed(
    backend: Backend,
) -> None:
    pending = GatewayRefund("re_1", "pi_1", 500, "usd", RefundStatus.PENDING)
    failed = GatewayRefund("re_2", "pi_1", 300, "usd", RefundStatus.FAILED)
    other = GatewayRefund("re_3", "pi_2", 100, "usd", RefundStatus.SUCCEEDED)
    async with backend.uow() as uow:
        await uow.refunds.add(pending, "p1", "u1", 500, NOW)
        await uow.refunds.add(failed, "p1", "u1", 0, NOW)
        await uow.refunds.add(other, "p2", "u1", 100, NOW)
        await uow.refunds.set_status("re_1", RefundStatus.CANCELED)
        await uow.refunds.set_status("re_missing", RefundStatus.FAILED)
        await uow.commit()
    async with backend.uow() as uow:
        got = await uow.refunds.get("re_1")
        listed = await uow.refunds.for_payment("p1")
        assert await uow.refunds.get("re_missing") is None
        assert await uow.refunds.for_payment("p_none") == []
    assert got == RecordedRefund("re_1", "p1", 500, RefundStatus.CANCELED, 500)
    assert sorted(listed, key=lambda r: r.refund_id) == [
        got,
        RecordedRefund("re_2", "p1", 300, RefundStatus.FAILED, 0),
    ]


# ---- users and api keys -----------------------------------------------------------


async def test_email_taken_leaves_the_transaction_usable(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.users.add(a_user("u1", "a@example.com", "CODE1"))
        with pytest.raises(EmailTaken):
            await uow.users.add(a_user("u2", "a@example.com"))
        with pytest.raises(Conflict):
            await uow.users.add(a_user("u3", "c@example.com", "CODE1"))
        await uow.users.add(a_user("u4", "b@example.com"))
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.users.get("u1") == a_user("u1", "a@example.com", "CODE1")
        assert await uow.users.find_by_referral_code("CODE1") == await uow.users.get("u1")
        assert await uow.users.get("u4") is not None
        assert await uow.users.get("u2") is None and await uow.users.get("u3") is None


async def test_api_keys_are_found_listed_and_revoked(backend: Backend) -> None:
    keys = [ApiKey(f"k{n}", "u1", f"cl_{n}", f"h{n}", NOW + timedelta(seconds=n)) for n in (1, 2)]
    async with backend.uow() as uow:
        await uow.users.add(a_user("u1", "a@example.com"))
        await uow.users.add(a_user("u2", "b@example.com"))
        for key in keys:
            await uow.users.add_api_key(key)
        await uow.commit()
    later = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=1)))
    async with backend.uow() as uow:
        user = await uow.users.get("u1")
        assert await uow.users.find_key_owner("h1") == (keys[0], user)
        assert await uow.users.revoke_api_key("u2", "k1", later) is False
        assert await uow.users.revoke_api_key("u1", "k1", later) is True
        assert await uow.users.revoke_api_key("u1", "k1", later + timedelta(hours=1)) is True
        assert await uow.users.revoke_api_key("u1", "missing", later) is False
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.users.find_key_owner("h1") is None
        assert await uow.users.find_key_owner("h2") == (keys[1], await uow.users.get("u1"))
        assert await uow.users.find_key_owner("h3") is None
        listed = (await uow.users.list_api_keys("u1", 10, None)).items
        assert (await uow.users.list_api_keys("u2", 10, None)).items == []
    assert listed == [replace(keys[0], revoked_at=later), keys[1]]


async def test_api_keys_are_paged_and_only_active_ones_counted(backend: Backend) -> None:
    keys = [ApiKey(f"k{n}", "u1", f"cl_{n}", f"h{n}", NOW + timedelta(seconds=n)) for n in range(5)]
    async with backend.uow() as uow:
        await uow.users.add(a_user("u1", "a@example.com"))
        for key in keys:
            await uow.users.add_api_key(key)
        await uow.users.revoke_api_key("u1", "k3", NOW)
        assert await uow.users.count_active_api_keys("u1") == 4
        assert await uow.users.count_active_api_keys("nobody") == 0
        await uow.commit()
    async with backend.uow() as uow:
        first = await uow.users.list_api_keys("u1", 3, None)
        rest = await uow.users.list_api_keys("u1", 3, first.next_cursor)
    assert [k.id for k in first.items] == ["k0", "k1", "k2"]
    assert ([k.id for k in rest.items], rest.next_cursor) == (["k3", "k4"], None)
