"""``handle_gateway_event``: every gateway event applied exactly once, in any order.

Events come from the memory gateway (the sandbox's state machine) with delivery
turned off, so each test decides when and how often they arrive; a few are written
by hand for what the sandbox cannot produce (delayed payment methods, other apps'
objects, tampered amounts). Assertions are on committed state only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from types import TracebackType
from typing import Self

import pytest

from application.ports import UnitOfWork
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.gateway import InvalidSignature
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventNotReady, EventOutcome
from application.webhooks.receive_webhook import receive_webhook
from domain.errors import GatewayUnavailable
from domain.ledger import EntryKind, LedgerEntry, Posting
from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import (
    CARD_EXPIRED,
    CARD_NO_FUNDS,
    T0,
    App,
    charge_object,
    intent_object,
    refund_object,
    session_object,
    stripe_event,
)


def assert_granted_once(app: App, payment: Payment) -> LedgerEntry:
    [entry] = app.purchase_entries(payment.id)
    assert entry.idempotency_key == f"purchase:{payment.id}"
    assert (entry.user_id, entry.credits) == (payment.user_id, payment.credits)
    assert app.balance(payment.user_id) == payment.credits
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    return entry


# ---- exactly once (docs/failure-modes.md #1, 2) ----


@pytest.mark.parametrize("reverse", [False, True], ids=["intent-first", "session-first"])
async def test_two_event_types_for_one_payment_grant_once(app: App, reverse: bool) -> None:
    payment = await app.open_checkout(1234, "eur")
    events = await app.pay(payment)
    assert [e.type for e in events] == ["payment_intent.succeeded", "checkout.session.completed"]
    if reverse:
        events.reverse()
    assert await app.handle_all(events) == [EventOutcome.GRANTED, EventOutcome.NO_CHANGE]
    entry = assert_granted_once(app, payment)
    assert entry.credits == 1332
    assert app.payment(payment.id).completed_at == T0
    assert [app.outcome_of(e) for e in events] == ["granted", "no_change"]
    assert await app.mismatches() == []


async def test_concurrent_deliveries_grant_once(app: App) -> None:
    """docs/failure-modes.md #4: deliveries racing each other still grant once."""
    payment = await app.open_checkout()
    events = await app.pay(payment)
    outcomes = await asyncio.gather(*(app.handle(e) for e in events * 3))
    assert Counter(outcomes) == {
        EventOutcome.GRANTED: 1,
        EventOutcome.NO_CHANGE: 1,
        EventOutcome.DUPLICATE: 4,
    }
    assert_granted_once(app, payment)


async def test_a_payment_intent_payment_is_granted_once(app: App) -> None:
    payment = await app.open_intent(777)
    [succeeded] = await app.pay(payment)
    assert await app.handle(succeeded) == EventOutcome.GRANTED
    assert await app.handle(succeeded) == EventOutcome.DUPLICATE
    assert_granted_once(app, payment)


class _FailingLedger:
    """The real ledger, except that ``post`` fails like a dropped database connection."""

    def __init__(self, inner: object, failures: list[int]) -> None:
        self._inner = inner
        self._failures = failures

    async def post(self, posting: Posting, now: object) -> LedgerEntry | None:
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise ConnectionError("database connection lost")
        return await self._inner.post(posting, now)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


class _UowWithFailingLedger:
    """A memory unit of work whose ledger fails its next ``post`` calls; the rest is real."""

    def __init__(self, inner: UnitOfWork, failures: list[int]) -> None:
        self._inner = inner
        self._failures = failures

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        self.ledger = _FailingLedger(self._inner.ledger, self._failures)
        return self

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self._inner.commit()


async def test_a_failure_inside_the_transaction_records_nothing_so_a_redelivery_grants(
    app: App,
) -> None:
    """The event id is claimed in the transaction that grants, or not at all.

    docs/failure-modes.md #2.
    """
    payment = await app.open_checkout()
    succeeded, _ = await app.pay(payment)
    failures = [1]

    def flaky_factory() -> UnitOfWork:
        return _UowWithFailingLedger(app.store.uow(), failures)

    async def deliver() -> EventOutcome:
        return await handle_gateway_event(
            succeeded, uow_factory=flaky_factory, gateway=app.gateway, clock=app.clock
        )

    with pytest.raises(ConnectionError):
        await deliver()
    assert app.outcome_of(succeeded) is None
    assert succeeded.event_id not in app.store.state.events
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.balance(payment.user_id) == 0
    assert app.entries() == []

    assert await deliver() == EventOutcome.GRANTED
    assert_granted_once(app, payment)
    assert app.outcome_of(succeeded) == "granted"


async def test_a_redelivered_event_is_a_duplicate(app: App) -> None:
    payment = await app.open_checkout()
    events = await app.pay(payment)
    await app.handle_all(events)
    before = app.store.state
    for event in events:
        assert await app.handle(event) == EventOutcome.DUPLICATE
    assert app.store.state.entries == before.entries
    assert app.store.state.events == before.events
    assert_granted_once(app, payment)


async def test_a_gateway_outage_while_listing_refunds_records_nothing(app: App) -> None:
    payment = await app.open_checkout()
    await app.handle_all(await app.pay(payment))
    refund, _ = await app.refund_at_gateway(payment, 400)
    event = stripe_event("charge.refunded", charge_object(payment, None, amount_refunded=400))
    app.gateway.fail_next("list_refunds")
    with pytest.raises(GatewayUnavailable):
        await app.handle(event)
    assert app.outcome_of(event) is None
    assert app.balance(payment.user_id) == 1000
    assert refund.refund_id not in app.store.state.refunds
    assert await app.handle(event) == EventOutcome.UPDATED
    assert app.balance(payment.user_id) == 600


# ---- events that are not ours to act on ----


async def test_an_unknown_event_type_is_recorded_and_ignored(app: App) -> None:
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert await app.handle(event) == EventOutcome.UNHANDLED
    assert app.outcome_of(event) == "ignored_unhandled_type"
    assert await app.handle(event) == EventOutcome.DUPLICATE


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        (
            "payment_intent.succeeded",
            {"id": "pi_other_app", "status": "succeeded", "amount_received": 1000},
        ),
        (
            "checkout.session.completed",
            {"id": "cs_other_app", "payment_status": "paid", "amount_total": 1000},
        ),
        (
            "payment_intent.succeeded",
            {"id": "pi_x", "amount_received": 1000, "metadata": {"payment_id": "pay_nope"}},
        ),
        (
            "charge.refunded",
            {
                "id": "ch_x",
                "payment_intent": "pi_x",
                "amount_refunded": 500,
                "refunds": {
                    "data": [{"id": "re_x", "amount": 500, "payment_intent": "pi_x"}],
                    "has_more": False,
                },
            },
        ),
        ("checkout.session.expired", {"id": "cs_other_app"}),
    ],
)
async def test_an_object_we_did_not_create_is_recorded_and_changes_nothing(
    app: App, event_type: str, obj: dict
) -> None:
    """docs/failure-modes.md #12: other apps share the Stripe account."""
    payment = await app.open_checkout()
    event = stripe_event(event_type, {"currency": "usd", **obj})
    before = app.store.state
    assert await app.handle(event) == EventOutcome.NOT_OURS
    assert app.outcome_of(event) == "ignored_unknown_object"
    assert app.store.state.payments == before.payments
    assert app.store.state.entries == {}
    assert app.payment(payment.id).status is PaymentStatus.PENDING


async def test_metadata_naming_our_payment_with_another_user_is_not_ours(app: App) -> None:
    """Metadata is a fallback only when it agrees with the stored payment.

    docs/failure-modes.md #6, 12.
    """
    payment = await app.open_checkout()
    other_user = await app.user()
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(
            payment, id="pi_foreign", metadata={"payment_id": payment.id, "user_id": other_user}
        ),
    )
    assert await app.handle(event) == EventOutcome.NOT_OURS
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.entries() == []


async def test_metadata_naming_our_payment_with_other_gateway_ids_is_not_ours(app: App) -> None:
    payment = await app.open_checkout()
    foreign = [
        stripe_event("payment_intent.succeeded", intent_object(payment, id="pi_foreign")),
        stripe_event(
            "checkout.session.completed",
            session_object(payment, id="cs_foreign", payment_intent="pi_foreign"),
        ),
    ]
    assert await app.handle_all(foreign) == [EventOutcome.NOT_OURS] * 2
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.entries() == []


async def test_metadata_finds_a_payment_whose_intent_we_have_not_seen_yet(app: App) -> None:
    """Stripe creates a Checkout's PaymentIntent lazily: the first event teaches its id."""
    payment = await app.open_checkout()
    async with app.store.uow() as uow:
        unseen = await uow.payments.get(payment.id)
        assert unseen is not None
        unseen.stripe_payment_intent_id = None
        await uow.payments.save(unseen)
        await uow.commit()
    event = stripe_event("payment_intent.succeeded", intent_object(payment, id="pi_lazy"))
    assert await app.handle(event) == EventOutcome.GRANTED
    assert app.payment(payment.id).stripe_payment_intent_id == "pi_lazy"
    assert_granted_once(app, payment)


async def test_client_metadata_cannot_choose_the_credits(app: App) -> None:
    """docs/failure-modes.md #6, 7: credits come from the payment row, never from the event."""
    payment = await app.open_checkout(1000)
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(
            payment, metadata={"payment_id": payment.id, "user_id": "x", "credits": "999999"}
        ),
    )
    assert await app.handle(event) == EventOutcome.GRANTED
    assert_granted_once(app, payment)
    assert app.balance(payment.user_id) == 1000


# ---- amounts ----


@pytest.mark.parametrize(
    ("event_type", "change"),
    [
        ("payment_intent.succeeded", {"amount_received": 1}),
        ("payment_intent.succeeded", {"amount_received": 100_000}),
        ("payment_intent.succeeded", {"currency": "jpy"}),
        ("payment_intent.succeeded", {"amount_received": None}),
        ("checkout.session.completed", {"amount_total": 999}),
        ("checkout.session.completed", {"currency": "eur"}),
    ],
)
async def test_an_amount_or_currency_mismatch_grants_nothing(
    app: App, event_type: str, change: dict
) -> None:
    payment = await app.open_checkout(1000)
    build = intent_object if event_type.startswith("payment_intent") else session_object
    event = stripe_event(event_type, build(payment, **change))
    assert await app.handle(event) == EventOutcome.REJECTED
    assert app.outcome_of(event) == "rejected_amount_mismatch"
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.entries() == []
    # The genuine event still fulfils.
    assert await app.handle_all(await app.pay(payment)) == [
        EventOutcome.GRANTED,
        EventOutcome.NO_CHANGE,
    ]
    assert_granted_once(app, payment)


async def test_currency_case_does_not_matter(app: App) -> None:
    payment = await app.open_checkout(1000)
    event = stripe_event("payment_intent.succeeded", intent_object(payment, currency="USD"))
    assert await app.handle(event) == EventOutcome.GRANTED


# ---- the payment lifecycle ----


async def test_a_delayed_payment_method_waits_then_grants(app: App) -> None:
    payment = await app.open_checkout()
    unpaid = stripe_event(
        "checkout.session.completed", session_object(payment, payment_status="unpaid")
    )
    assert await app.handle(unpaid) == EventOutcome.WAITING
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.entries() == []
    succeeded = stripe_event("checkout.session.async_payment_succeeded", session_object(payment))
    assert await app.handle(succeeded) == EventOutcome.GRANTED
    assert_granted_once(app, payment)


async def test_a_delayed_payment_method_that_fails(app: App) -> None:
    payment = await app.open_checkout()
    unpaid = stripe_event(
        "checkout.session.completed", session_object(payment, payment_status="unpaid")
    )
    failed = stripe_event(
        "checkout.session.async_payment_failed", session_object(payment, payment_status="unpaid")
    )
    assert await app.handle_all([unpaid, failed]) == [EventOutcome.WAITING, EventOutcome.UPDATED]
    stored = app.payment(payment.id)
    assert (stored.status, stored.failure_reason) == (PaymentStatus.FAILED, "async_payment_failed")
    assert app.entries() == []


async def test_an_expired_session_expires_the_payment(app: App) -> None:
    payment = await app.open_checkout()
    [expired] = await app.expire(payment)
    assert expired.type == "checkout.session.expired"
    assert await app.handle(expired) == EventOutcome.UPDATED
    assert app.payment(payment.id).status is PaymentStatus.EXPIRED
    assert app.entries() == []


async def test_a_declined_card_then_another_card_completes(app: App) -> None:
    payment = await app.open_checkout()
    [declined] = await app.pay(payment, CARD_NO_FUNDS)
    assert declined.type == "payment_intent.payment_failed"
    assert await app.handle(declined) == EventOutcome.UPDATED
    stored = app.payment(payment.id)
    assert (stored.status, stored.failure_reason) == (PaymentStatus.FAILED, "insufficient_funds")

    [expired_card] = await app.pay(payment, CARD_EXPIRED)
    assert await app.handle(expired_card) == EventOutcome.UPDATED
    assert app.payment(payment.id).failure_reason == "expired_card"

    assert await app.handle_all(await app.pay(payment)) == [
        EventOutcome.GRANTED,
        EventOutcome.NO_CHANGE,
    ]
    assert_granted_once(app, payment)
    assert app.payment(payment.id).failure_reason is None


async def test_a_payment_intent_canceled(app: App) -> None:
    payment = await app.open_intent()
    assert payment.stripe_payment_intent_id is not None
    await app.gateway.cancel_payment_intent(payment.stripe_payment_intent_id, deliver="never")
    [canceled] = app.kept_events()
    assert await app.handle(canceled) == EventOutcome.UPDATED
    stored = app.payment(payment.id)
    assert (stored.status, stored.failure_reason) == (PaymentStatus.CANCELED, "abandoned")


async def test_late_failure_or_expiry_never_undoes_a_completion(app: App) -> None:
    """docs/failure-modes.md #14: transitions are monotonic."""
    payment = await app.open_checkout()
    [declined] = await app.pay(payment, CARD_NO_FUNDS)
    paid = await app.pay(payment)
    await app.handle_all(paid)
    late = [
        declined,
        stripe_event("checkout.session.expired", session_object(payment, status="expired")),
        stripe_event(
            "payment_intent.canceled", intent_object(payment, status="canceled", amount_received=0)
        ),
        stripe_event(
            "checkout.session.async_payment_failed",
            session_object(payment, payment_status="unpaid"),
        ),
    ]
    assert await app.handle_all(late) == [EventOutcome.NO_CHANGE] * 4
    assert_granted_once(app, payment)
    assert app.payment(payment.id).failure_reason is None


async def test_a_success_reported_after_a_local_expiry_is_honoured(app: App) -> None:
    """The gateway is the truth about money taken: a stale expiry does not lose a payment."""
    payment = await app.open_checkout()
    expired = stripe_event("checkout.session.expired", session_object(payment, status="expired"))
    assert await app.handle(expired) == EventOutcome.UPDATED
    assert app.payment(payment.id).status is PaymentStatus.EXPIRED
    succeeded = stripe_event("payment_intent.succeeded", intent_object(payment))
    assert await app.handle(succeeded) == EventOutcome.GRANTED
    assert_granted_once(app, payment)


async def test_an_expired_payment_is_not_failed_by_a_late_decline(app: App) -> None:
    """The late decline keeps the payment expired and only leaves its reason, as the
    other order would: the final state does not depend on delivery order."""
    payment = await app.open_checkout()
    [declined] = await app.pay(payment, CARD_NO_FUNDS)
    [expired] = await app.expire(payment)
    assert await app.handle_all([expired, declined]) == [
        EventOutcome.UPDATED,
        EventOutcome.UPDATED,
    ]
    stored = app.payment(payment.id)
    assert stored.status is PaymentStatus.EXPIRED
    assert stored.failure_reason == "insufficient_funds"


# ---- refunds (docs/failure-modes.md #9) ----


def refund_entries(app: App, payment: Payment) -> list[LedgerEntry]:
    return [
        e
        for e in app.entries(payment.user_id)
        if e.kind is EntryKind.REFUND_REVERSAL
        and e.idempotency_key.startswith(f"refund:{payment.id}:")
    ]


async def test_partial_then_full_refund_reverses_proportionally_once_per_refund(app: App) -> None:
    payment = await app.open_checkout(999, "usd")  # not a round number of credits per cent
    async with app.store.uow() as uow:  # 1100 credits for 999 cents, as the "odd" package
        stored = await uow.payments.get(payment.id)
        assert stored is not None
        stored.credits = 1100
        await uow.payments.save(stored)
        await uow.commit()
    payment = app.payment(payment.id)
    await app.handle_all(await app.pay(payment))
    assert app.balance(payment.user_id) == 1100

    first, first_events = await app.refund_at_gateway(payment, 333)
    charge_1, refund_created_1 = first_events
    assert (charge_1.type, refund_created_1.type) == ("charge.refunded", "refund.created")
    assert await app.handle(charge_1) == EventOutcome.UPDATED
    assert await app.handle(refund_created_1) == EventOutcome.NO_CHANGE
    stored = app.payment(payment.id)
    assert stored.status is PaymentStatus.PARTIALLY_REFUNDED
    assert (stored.amount_refunded, stored.credits_reversed) == (333, 1100 * 333 // 999)
    assert app.balance(payment.user_id) == 1100 - 366

    second, second_events = await app.refund_at_gateway(payment, 666)
    charge_2, _ = second_events
    assert [r.refund_id for r in charge_2.refunds or ()] == [second.refund_id, first.refund_id]
    assert charge_2.amount_refunded == 999
    assert await app.handle_all(second_events) == [EventOutcome.UPDATED, EventOutcome.NO_CHANGE]
    stored = app.payment(payment.id)
    assert stored.status is PaymentStatus.REFUNDED
    assert (stored.amount_refunded, stored.credits_reversed) == (999, 1100)
    assert app.balance(payment.user_id) == 0

    # A redelivery, and another event naming the same refunds, reverse nothing more.
    assert await app.handle(charge_1) == EventOutcome.DUPLICATE
    again = stripe_event("charge.refunded", charge_object(payment, [first, second]))
    assert await app.handle(again) == EventOutcome.NO_CHANGE
    entries = refund_entries(app, payment)
    assert sorted((e.idempotency_key, e.credits) for e in entries) == sorted(
        [
            (f"refund:{payment.id}:{first.refund_id}", -366),
            (f"refund:{payment.id}:{second.refund_id}", -734),
        ]
    )
    assert {r.credits_reversed for r in app.store.state.refunds.values()} == {366, 734}
    assert await app.mismatches() == []


async def test_a_refund_event_alone_reverses_its_refund(app: App) -> None:
    payment = await app.open_intent(1000)
    await app.handle_all(await app.pay(payment))
    refund, (_, refund_created) = await app.refund_at_gateway(payment, 250)
    assert await app.handle(refund_created) == EventOutcome.UPDATED
    assert app.balance(payment.user_id) == 750
    assert app.payment(payment.id).status is PaymentStatus.PARTIALLY_REFUNDED
    assert app.store.state.refunds[refund.refund_id].credits_reversed == 250


async def test_a_refund_event_without_a_refund_list_lists_refunds_at_the_gateway(
    app: App,
) -> None:
    payment = await app.open_checkout(1000)
    await app.handle_all(await app.pay(payment))
    first, _ = await app.refund_at_gateway(payment, 100)
    second, _ = await app.refund_at_gateway(payment, 200)
    bare = stripe_event("charge.refunded", charge_object(payment, None, amount_refunded=300))
    assert bare.refunds is None
    assert await app.handle(bare) == EventOutcome.UPDATED
    assert set(app.store.state.refunds) == {first.refund_id, second.refund_id}
    assert app.balance(payment.user_id) == 700
    assert app.payment(payment.id).amount_refunded == 300


async def test_refunds_that_move_no_money_reverse_nothing(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.handle_all(await app.pay(payment))
    intent = payment.stripe_payment_intent_id
    refunds = [
        GatewayRefund("re_failed", intent, 500, "usd", RefundStatus.FAILED),
        GatewayRefund("re_canceled", intent, 500, "usd", RefundStatus.CANCELED),
        GatewayRefund("re_action", intent, 500, "usd", RefundStatus.REQUIRES_ACTION),
        GatewayRefund("re_other_currency", intent, 500, "eur", RefundStatus.SUCCEEDED),
    ]
    events = [stripe_event("refund.updated", refund_object(r)) for r in refunds]
    assert await app.handle_all(events) == [EventOutcome.NO_CHANGE] * 4
    assert app.balance(payment.user_id) == 1000
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    # A refund that needed action and then succeeded reverses then.
    done = GatewayRefund("re_action", intent, 500, "usd", RefundStatus.SUCCEEDED)
    assert await app.handle(stripe_event("refund.updated", refund_object(done))) == (
        EventOutcome.UPDATED
    )
    assert app.balance(payment.user_id) == 500


async def test_a_refund_before_the_payment_was_seen_paid_waits_for_it(app: App) -> None:
    payment = await app.open_checkout(1000)
    paid = await app.pay(payment)
    _, (charge_refunded, refund_created) = await app.refund_at_gateway(payment, 400)

    for early in (charge_refunded, refund_created):
        with pytest.raises(EventNotReady):
            await app.handle(early)
        assert app.outcome_of(early) is None
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    assert app.entries() == []

    await app.handle_all(paid)
    assert await app.handle(refund_created) == EventOutcome.UPDATED
    assert await app.handle(charge_refunded) == EventOutcome.NO_CHANGE
    stored = app.payment(payment.id)
    assert (stored.status, stored.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 400)
    assert app.balance(payment.user_id) == 600


async def test_a_refund_after_the_credits_were_spent_records_debt(app: App) -> None:
    payment = await app.open_checkout(1000)
    await app.handle_all(await app.pay(payment))
    async with app.store.uow() as uow:  # the API gateway debits usage, as a later use case will
        spend = Posting(payment.user_id, -900, EntryKind.USAGE_DEBIT, "request", "req_1", "use:1")
        await uow.ledger.post(spend, T0)
        await uow.commit()
    assert app.balance(payment.user_id) == 100

    _, events = await app.refund_at_gateway(payment, 1000)
    assert await app.handle_all(events) == [EventOutcome.UPDATED, EventOutcome.NO_CHANGE]
    assert app.balance(payment.user_id) == -900
    [reversal] = refund_entries(app, payment)
    assert (reversal.credits, reversal.balance_after) == (-1000, -900)
    assert app.payment(payment.id).status is PaymentStatus.REFUNDED
    assert await app.mismatches() == []


async def test_a_refund_of_a_payment_whose_intent_was_not_known_yet_is_not_lost(
    app: App,
) -> None:
    """On Stripe a Checkout's PaymentIntent is created when the customer pays, so a
    refund made before any payment event arrived names an intent we have not stored.
    The charge carries the intent's metadata (Stripe copies it on confirmation), which
    finds the payment; the refund then waits for the payment events (docs/webhooks.md).
    """
    payment = await app.open_checkout(1000)
    paid = await app.pay(payment)
    _, refund_events = await app.refund_at_gateway(payment, 1000)
    async with app.store.uow() as uow:  # as with Stripe: no PaymentIntent at creation
        unseen = await uow.payments.get(payment.id)
        assert unseen is not None
        unseen.stripe_payment_intent_id = None
        await uow.payments.save(unseen)
        await uow.commit()

    queue = [*refund_events, *paid]
    for _ in range(20):
        if not queue:
            break
        event = queue.pop(0)
        try:
            await app.handle(event)
        except EventNotReady:
            queue.append(event)  # the gateway redelivers later
    assert app.payment(payment.id).status is PaymentStatus.REFUNDED
    assert app.balance(payment.user_id) == 0


# ---- the raw webhook ----


async def test_a_badly_signed_webhook_records_nothing(app: App) -> None:
    payment = await app.open_checkout()
    body, signature = app.gateway.make_event("payment_intent.succeeded", intent_object(payment))
    tampered = body.replace(b'"amount_received":1000', b'"amount_received":1001')
    for payload, header in [(tampered, signature), (body, None), (body, "t=1,v1=deadbeef")]:
        with pytest.raises(InvalidSignature):
            await receive_webhook(
                payload,
                header,
                gateway=app.gateway,
                uow_factory=app.store.uow_factory,
                clock=app.clock,
            )
    assert app.store.state.events == {}
    assert await app.webhook(body, signature) == 200
    assert_granted_once(app, payment)


async def test_a_stale_signature_is_refused(app: App) -> None:
    payment = await app.open_checkout()
    body, signature = app.gateway.make_event("payment_intent.succeeded", intent_object(payment))
    app.clock.advance(timedelta(seconds=301))
    with pytest.raises(InvalidSignature):
        await receive_webhook(
            body, signature, gateway=app.gateway, uow_factory=app.store.uow_factory, clock=app.clock
        )
    assert app.store.state.events == {}
    assert app.payment(payment.id).status is PaymentStatus.PENDING
