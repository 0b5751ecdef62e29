"""Same-transaction follow-ups: the bus the unit of work runs just before it commits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.uow import MemoryStore
from application.messagebus import MessageBus
from application.ports import UnitOfWork
from application.purchases.fulfil_payment import fulfil
from domain.events import CreditsGranted, PaymentCompleted, TrialConverted
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def a_payment() -> Payment:
    return Payment(
        "pay_1", "usr_1", PaymentKind.CHECKOUT, 1000, "usd", 1000, PaymentStatus.PENDING, NOW
    )


async def arrange(store: MemoryStore) -> None:
    async with store.uow() as uow:
        await uow.ledger.open_account("usr_1")
        await uow.payments.add(a_payment())
        await uow.commit()


async def thank(uow: UnitOfWork, event: PaymentCompleted, now: datetime) -> None:
    """A follow-up that changes state and records an event of its own."""
    posting = Posting(event.user_id, 5, EntryKind.COUPON, "thanks", event.payment_id, "thanks:1")
    entry = await uow.ledger.post(posting, now)
    assert entry is not None
    uow.record(CreditsGranted.of(entry))


async def convert(uow: UnitOfWork, event: PaymentCompleted, now: datetime) -> None:
    uow.record(TrialConverted(user_id=event.user_id, occurred_at=now, payment_id=event.payment_id))


async def refuse(uow: UnitOfWork, event: CreditsGranted, now: datetime) -> None:
    raise RuntimeError(f"follow-up of {event.idempotency_key} failed")


def types(store: MemoryStore) -> list[str]:
    return sorted(message.type for message in store.state.outbox.values())


async def complete(store: MemoryStore, *, save: bool = True) -> None:
    async with store.uow() as uow:
        payment = await uow.payments.get("pay_1", for_update=True)
        assert payment is not None
        payment.complete(NOW)
        if save:
            await uow.payments.save(payment)
            await uow.payments.save(payment)
        await uow.commit()


async def test_handlers_run_in_the_transaction_and_what_they_record_is_published() -> None:
    store = MemoryStore(MessageBus().on(PaymentCompleted, thank, convert))
    await arrange(store)

    await complete(store)

    assert store.state.accounts["usr_1"].balance == 5
    assert types(store) == ["credits.granted", "payment.completed", "trial.converted"]


async def test_a_failing_handler_rolls_back_the_change_that_caused_it() -> None:
    store = MemoryStore(MessageBus().on(PaymentCompleted, thank).on(CreditsGranted, refuse))
    await arrange(store)

    with pytest.raises(RuntimeError):
        await complete(store)

    assert store.state.payments["pay_1"].status is PaymentStatus.PENDING
    assert store.state.accounts["usr_1"].balance == 0
    assert store.state.outbox == {}


async def test_a_change_never_saved_publishes_nothing() -> None:
    store = MemoryStore(MessageBus().on(PaymentCompleted, thank))
    await arrange(store)

    await complete(store, save=False)

    assert (store.state.outbox, store.state.accounts["usr_1"].balance) == ({}, 0)


async def test_the_follow_ups_come_from_the_bus_the_store_was_given() -> None:
    """The purchase use case calls no follow-up itself: with an empty bus, only the
    purchase's own rows are written."""
    store = MemoryStore(MessageBus())
    await arrange(store)
    async with store.uow() as uow:
        payment = await uow.payments.get("pay_1", for_update=True)
        assert payment is not None
        await fulfil(uow, payment, 1000, "usd", NOW, "test")
        await uow.commit()

    assert store.state.accounts["usr_1"].balance == 1000
    assert types(store) == ["credits.granted", "payment.completed"]
