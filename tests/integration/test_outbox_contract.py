"""One contract for the outbox on every adapter: memory, SQLite, PostgreSQL.

The port's own behaviour first (a row per event id, pending oldest first, nothing
from a rolled-back transaction), then what the use cases write through it: exactly
one row per change, and none for a delivery that changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.accounts.users import create_user
from application.outbox import DeliveryStatus, OutboxMessage
from application.ports import UnitOfWorkFactory
from application.purchases.fulfil_payment import FulfilOutcome, fulfil
from application.refunds.apply_refund import apply_refunds
from application.refunds.gateway import GatewayRefund, RefundStatus
from domain.events import CouponRedeemed, CreditsGranted, PaymentCompleted
from domain.ledger import EntryKind
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.referral import ReferralTerms
from domain.trial import TrialTerms

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
Row = tuple[str, str]  # (type, user id)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uows(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().uow_factory
        return
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    )
    engine = make_engine(url)
    yield uow_factory(engine)
    await engine.dispose()


async def pending(uows: UnitOfWorkFactory, limit: int = 100) -> list[OutboxMessage]:
    async with uows() as uow:
        return list(await uow.outbox.pending(limit))


def redeemed(user_id: str, at: datetime = NOW, coupon_id: str = "cpn_1") -> CouponRedeemed:
    return CouponRedeemed(
        user_id=user_id,
        occurred_at=at,
        coupon_id=coupon_id,
        code="WELCOME",
        redemption_id=f"red_{coupon_id}_{user_id}",
        credits=500,
        credits_expire_at=at + timedelta(days=30),
    )


# ---- the port ---------------------------------------------------------------------------


async def test_an_event_is_one_pending_row_with_its_id_type_user_payload_and_time(
    uows: UnitOfWorkFactory,
) -> None:
    event = redeemed("u1")
    async with uows() as uow:
        uow.record(event)
        await uow.commit()

    assert await pending(uows) == [
        OutboxMessage(
            event_id=event.event_id,
            type="coupon.redeemed",
            user_id="u1",
            payload={
                "coupon_id": "cpn_1",
                "code": "WELCOME",
                "redemption_id": "red_cpn_1_u1",
                "credits": 500,
                "credits_expire_at": "2026-01-31T12:00:00+00:00",
            },
            occurred_at=NOW,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            last_status=None,
        )
    ]


async def test_the_same_fact_added_twice_is_one_row_and_fails_no_transaction(
    uows: UnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        assert await uow.outbox.add(redeemed("u1"))
        assert not await uow.outbox.add(redeemed("u1"))
        await uow.commit()
    async with uows() as uow:
        assert not await uow.outbox.add(redeemed("u1"))
        assert await uow.outbox.add(redeemed("u2"))
        await uow.commit()

    assert sorted(m.user_id for m in await pending(uows)) == ["u1", "u2"]


async def test_a_rolled_back_transaction_writes_no_row(uows: UnitOfWorkFactory) -> None:
    async with uows() as uow:
        uow.record(redeemed("u1"))
        await uow.outbox.add(redeemed("u2"))
    with pytest.raises(RuntimeError):
        async with uows() as uow:
            uow.record(redeemed("u3"))
            raise RuntimeError("the change failed")

    assert await pending(uows) == []


async def test_pending_rows_come_oldest_first_then_by_id_up_to_the_limit(
    uows: UnitOfWorkFactory,
) -> None:
    later, earlier = redeemed("u1", NOW + timedelta(seconds=1)), redeemed("u2", NOW)
    same_time = [redeemed("u3", NOW, coupon_id=f"cpn_{n}") for n in range(3)]
    async with uows() as uow:
        for event in (later, *same_time, earlier):
            await uow.outbox.add(event)
        await uow.commit()

    at_now = sorted([earlier, *same_time], key=lambda e: e.event_id)
    expected = [e.event_id for e in [*at_now, later]]
    assert [m.event_id for m in await pending(uows)] == expected
    assert [m.event_id for m in await pending(uows, limit=2)] == expected[:2]


# ---- one row per change -----------------------------------------------------------------


async def sign_up(uows: UnitOfWorkFactory, email: str, code: str | None = None) -> tuple[str, str]:
    """A user with a trial (and a referral by ``code``): their id and referral code."""
    created = await create_user(
        email,
        referred_by_code=code,
        referral_terms=ReferralTerms(min_purchase=1000, bonus_credits=300, max_uses=5),
        trial_terms=TrialTerms(credits=100, days=14),
        uow_factory=uows,
        clock=FixedClock(NOW),
    )
    assert created.user.referral_code is not None
    return created.user.id, created.user.referral_code


async def open_payment(uows: UnitOfWorkFactory, user_id: str) -> str:
    payment = Payment(
        f"pay_{user_id}", user_id, PaymentKind.PAYMENT_INTENT, 1000, "usd", 1000,
        PaymentStatus.PENDING, NOW, stripe_payment_intent_id=f"pi_{user_id}",
    )  # fmt: skip
    async with uows() as uow:
        await uow.payments.add(payment)
        await uow.commit()
    return payment.id


async def complete(uows: UnitOfWorkFactory, payment_id: str) -> FulfilOutcome:
    async with uows() as uow:
        payment = await uow.payments.get(payment_id, for_update=True)
        assert payment is not None
        outcome = await fulfil(uow, payment, 1000, "usd", NOW, "test")
        await uow.commit()
    return outcome


async def refund(uows: UnitOfWorkFactory, payment_id: str, *refunds: GatewayRefund) -> None:
    async with uows() as uow:
        payment = await uow.payments.get(payment_id, for_update=True)
        assert payment is not None
        await apply_refunds(uow, payment, refunds, NOW)
        await uow.commit()


async def new_rows(uows: UnitOfWorkFactory, before: list[OutboxMessage]) -> list[OutboxMessage]:
    seen = {m.event_id for m in before}
    return [m for m in await pending(uows) if m.event_id not in seen]


def rows(messages: list[OutboxMessage]) -> list[Row]:
    return sorted((m.type, m.user_id) for m in messages)


def a_refund(payment_id: str, amount: int, status: RefundStatus) -> GatewayRefund:
    return GatewayRefund("re_1", f"pi_{payment_id.removeprefix('pay_')}", amount, "usd", status)


async def test_signing_up_with_a_trial_writes_the_trial_and_its_grant(
    uows: UnitOfWorkFactory,
) -> None:
    user, _ = await sign_up(uows, "a@example.com")

    assert rows(await pending(uows)) == [("credits.granted", user), ("trial.started", user)]


async def test_a_purchase_writes_exactly_its_rows_and_a_duplicate_delivery_none(
    uows: UnitOfWorkFactory,
) -> None:
    referrer, code = await sign_up(uows, "referrer@example.com")
    buyer, _ = await sign_up(uows, "buyer@example.com", code)
    payment_id = await open_payment(uows, buyer)
    before = await pending(uows)

    assert await complete(uows, payment_id) is FulfilOutcome.GRANTED
    written = await new_rows(uows, before)
    assert rows(written) == sorted(
        [
            ("credits.granted", buyer),  # the purchase
            ("credits.granted", buyer),  # the referred side's bonus
            ("credits.granted", referrer),  # the referrer's bonus
            ("payment.completed", buyer),
            ("referral.rewarded", referrer),
            ("trial.converted", buyer),
        ]
    )
    grants = {m.payload["kind"]: m.payload for m in written if m.type == "credits.granted"}
    assert grants["purchase"] == {
        "credits": 1000,
        "kind": "purchase",
        "reference_type": "payment",
        "reference_id": payment_id,
        "entry_id": grants["purchase"]["entry_id"],
        "balance_after": 1100,
        "expires_at": None,
        "idempotency_key": f"purchase:{payment_id}",
    }
    completed = next(m for m in written if m.type == "payment.completed")
    assert completed.event_id == PaymentCompleted(
        user_id=buyer, occurred_at=NOW, payment_id=payment_id, amount=1000, currency="usd",
        credits=1000,
    ).event_id  # fmt: skip

    after = await pending(uows)
    assert await complete(uows, payment_id) is FulfilOutcome.ALREADY_FULFILLED
    assert await new_rows(uows, after) == []


async def test_a_refund_writes_its_rows_once_and_its_failure_writes_the_restore(
    uows: UnitOfWorkFactory,
) -> None:
    referrer, code = await sign_up(uows, "referrer@example.com")
    buyer, _ = await sign_up(uows, "buyer@example.com", code)
    payment_id = await open_payment(uows, buyer)
    await complete(uows, payment_id)

    before = await pending(uows)
    await refund(uows, payment_id, a_refund(payment_id, 1000, RefundStatus.SUCCEEDED))
    written = await new_rows(uows, before)
    assert rows(written) == sorted(
        [
            ("payment.refunded", buyer),
            ("credits.reversed", buyer),  # the refund's
            ("credits.reversed", buyer),  # the bonuses'
            ("credits.reversed", referrer),
            ("referral.reversed", referrer),
        ]
    )
    reversals = sorted(
        (m.payload["kind"], m.payload["credits"], m.payload["balance_after"])
        for m in written
        if m.type == "credits.reversed" and m.user_id == buyer
    )
    assert reversals == [
        (EntryKind.BONUS_REVERSAL, 300, 100),
        (EntryKind.REFUND_REVERSAL, 1000, 400),
    ]
    refunded = next(m for m in written if m.type == "payment.refunded")
    assert refunded.payload == {
        "payment_id": payment_id,
        "refund_id": "re_1",
        "amount": 1000,
        "credits_reversed": 1000,
        "amount_refunded": 1000,
    }

    again = await pending(uows)
    await refund(uows, payment_id, a_refund(payment_id, 1000, RefundStatus.SUCCEEDED))
    assert await new_rows(uows, again) == []

    await refund(uows, payment_id, a_refund(payment_id, 1000, RefundStatus.FAILED))
    restored = await new_rows(uows, again)
    # The purchase qualifies again, so both bonuses come back (issue 8, item 3).
    assert rows(restored) == sorted(
        [
            ("credits.granted", buyer),
            ("payment.refund_restored", buyer),
            ("credits.granted", buyer),
            ("credits.granted", referrer),
            ("referral.rewarded", referrer),
        ]
    )
    grants = sorted(
        (m.payload["kind"], m.payload["credits"])
        for m in restored
        if m.type == CreditsGranted.type and m.user_id == buyer
    )
    assert grants == [(EntryKind.REFERRAL_BONUS, 300), (EntryKind.REFUND_RESTORE, 1000)]
