"""Whatever the order or number of deliveries, the final state is the same (docs/webhooks.md).

Hypothesis draws a few payments and what happens to each at the gateway (paid,
declined then paid, expired, canceled, refunded in parts, some of those refunds
failing afterwards, ...). The gateway produces
the events; they are applied once each in the order they were produced (the canonical
run), and, on a copy of the same starting state, shuffled with each event delivered
one to five times (the random run). As the gateway does, an event answered
``EventNotReady`` is delivered again later (appended to the queue).

Both runs must end in the same balances, payment statuses and ledger entries; every
cached balance must equal the sum of its entries; no payment may be granted twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.state import MemoryState
from adapters.memory.uow import MemoryStore
from adapters.sandbox.events import build_event, refund_object
from application.refunds.gateway import FAILED_REFUND_STATUSES, RefundRequest, RefundStatus
from application.webhooks.events import GatewayEvent
from application.webhooks.handling import EventNotReady, EventOutcome
from domain.ledger import EntryKind
from domain.payment import PAID, PaymentStatus
from tests.unit.conftest import CARD_EXPIRED, CARD_NO_FUNDS, CARD_OK, App, make_app

# What the customer and the merchant do at the gateway, per payment.
CHECKOUT_STORIES = {
    "paid": [CARD_OK],
    "declined_then_paid": [CARD_NO_FUNDS, CARD_OK],
    "declined_twice_then_paid": [CARD_NO_FUNDS, CARD_EXPIRED, CARD_OK],
    "declined": [CARD_NO_FUNDS],
    "expired": ["expire"],
    "declined_then_expired": [CARD_NO_FUNDS, "expire"],
    "untouched": [],
}
INTENT_STORIES = {
    "paid": [CARD_OK],
    "declined_then_paid": [CARD_NO_FUNDS, CARD_OK],
    "declined": [CARD_EXPIRED],
    "canceled": ["cancel"],
    "declined_then_canceled": [CARD_NO_FUNDS, "cancel"],
}
# How Stripe may report that a refund failed after it succeeded (a closed card).
FAILURE_REPORTS = ["refund.updated", "charge.refund.updated", "refund.failed"]
REFUND_KINDS = (EntryKind.REFUND_REVERSAL, EntryKind.REFUND_RESTORE)


@dataclass(frozen=True)
class Plan:
    kind: str  # "checkout" or "intent"
    story: str
    user: int
    amount: int
    currency: str
    refunds: tuple[int, ...]  # parts of the amount, refunded in order if paid
    failures: tuple[str | None, ...] = ()  # per refund: how its later failure is reported


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    kind = draw(st.sampled_from(["checkout", "intent"]))
    stories = CHECKOUT_STORIES if kind == "checkout" else INTENT_STORIES
    story = draw(st.sampled_from(sorted(stories)))
    amount = draw(st.sampled_from([50, 999, 1000, 1234]))
    currency = draw(st.sampled_from(["usd", "eur"]))
    refunds: tuple[int, ...] = ()
    if stories[story][-1:] == [CARD_OK]:
        cuts = draw(st.lists(st.integers(1, amount - 1), max_size=2, unique=True))
        whole = draw(st.booleans())
        points = sorted(cuts) + ([amount] if whole else [])
        refunds = tuple(b - a for a, b in zip([0, *points], points, strict=False))
    reports = st.one_of(st.none(), st.sampled_from(FAILURE_REPORTS))
    failures = draw(st.lists(reports, min_size=len(refunds), max_size=len(refunds)))
    return Plan(kind, story, draw(st.integers(0, 1)), amount, currency, refunds, tuple(failures))


async def _produce(app: App, plan: Plan, users: list[str]) -> None:
    """Open the payment and play its story at the gateway; events are kept, not sent."""
    user = users[plan.user]
    if plan.kind == "checkout":
        created = await app.checkout(user, plan.amount, plan.currency)
        payment = app.payment(created.payment_id)
    else:
        created_intent = await app.intent(user, plan.amount, plan.currency)
        payment = app.payment(created_intent.payment_id)
    stories = CHECKOUT_STORIES if plan.kind == "checkout" else INTENT_STORIES
    for step in stories[plan.story]:
        if step == "expire":
            await app.expire(payment)
        elif step == "cancel":
            assert payment.stripe_payment_intent_id is not None
            await app.gateway.cancel_payment_intent(
                payment.stripe_payment_intent_id, deliver="never"
            )
        else:
            await app.pay(payment, step)
    made = []
    for n, part in enumerate(plan.refunds):
        assert payment.stripe_payment_intent_id is not None
        made.append(
            await app.gateway.refund(
                RefundRequest(
                    payment.id, payment.stripe_payment_intent_id, part, None, f"{payment.id}:{n}"
                ),
                deliver="never",
            )
        )
    for refund, report in zip(made, plan.failures, strict=True):
        if report is not None:
            _fail_at_gateway(app, refund.payment_intent_id, refund.refund_id, report)


def _fail_at_gateway(app: App, intent_id: str | None, refund_id: str, report: str) -> None:
    """The sandbox cannot fail a refund: flip its record, as Stripe would, and report it."""
    assert intent_id is not None
    intent = app.sandbox_store.intent(intent_id)
    [record] = [r for r in intent.refunds if r.id == refund_id]
    record.status = RefundStatus.FAILED
    event = build_event(report, refund_object(record), int(app.clock.now().timestamp()))
    app.sandbox_store.save(intent, events=(event,))


def _without_refund_list(event: GatewayEvent) -> GatewayEvent:
    """As newer Stripe API versions send ``charge.refunded``: refunds are then listed."""
    return replace(event, refunds=None) if event.type == "charge.refunded" else event


def _final_state(state: MemoryState) -> dict[str, object]:
    """What must not depend on delivery order.

    Not entry ids and ``balance_after``, by nature. Not ``failure_reason``: it holds the
    last *processed* decline, and a decline processed after an expiry is ignored. Not
    how one payment's reversed credits split between its refunds: reversal is
    proportional on cumulative totals, so the rounding remainder goes to whichever
    refund is applied later; each payment's ``credits_reversed`` is compared instead
    (and ``_check`` holds the ledger to it). Nor the entries of a refund that failed:
    reported failed first, it reversed nothing; seen first, it reversed and was restored.
    """
    failed = {
        r.refund_id
        for r in state.refunds.values()
        if RefundStatus(r.status) in FAILED_REFUND_STATUSES
    }
    return {
        "balances": {u: a.balance for u, a in state.accounts.items()},
        "payments": {
            p.id: (
                p.status,
                p.amount_refunded,
                p.credits_reversed,
                p.stripe_payment_intent_id,
            )
            for p in state.payments.values()
        },
        "entries": sorted(
            (e.idempotency_key, e.user_id, e.kind, e.reference_id)
            + ((e.credits,) if e.kind not in REFUND_KINDS else ())
            for e in state.entries.values()
            if not (e.kind in REFUND_KINDS and e.reference_id in failed)
        ),
        "refunds": {r.refund_id: r.status for r in state.refunds.values()},
    }


async def _deliver(app: App, queue: list[GatewayEvent]) -> Counter[str]:
    """Deliver as the gateway does: a not-ready event goes to the back of the queue."""
    granted: Counter[str] = Counter()
    budget = 20 * len(queue) + 20
    while queue:
        budget -= 1
        assert budget > 0, "events were never applied"
        event = queue.pop(0)
        try:
            outcome = await app.handle(event)
        except EventNotReady:
            queue.append(event)
            continue
        if outcome is EventOutcome.GRANTED:
            recorded = app.store.state.events[event.event_id]
            assert recorded.detail is not None
            granted[recorded.detail] += 1
    return granted


async def _check(
    plans_: list[Plan], drop_refund_lists: bool, order: list[int], repeats: list[int]
) -> None:
    app = make_app()
    users = [await app.user() for _ in range(2)]
    for plan in plans_:
        await _produce(app, plan, users)
    produced = app.kept_events()
    assert len(produced) == len(order)
    if drop_refund_lists:
        produced = [_without_refund_list(e) for e in produced]
    start = app.store.state.copy()

    granted = await _deliver(app, list(produced))
    canonical = _final_state(app.store.state)

    app.store = MemoryStore()
    app.store.state = start.copy()
    deliveries = [produced[i] for i in order for _ in range(repeats[i])]
    granted_random = await _deliver(app, deliveries)
    assert _final_state(app.store.state) == canonical

    async with app.store.uow() as uow:
        assert list(await uow.audit.verify()) == []
    assert set(app.store.state.events) == {e.event_id for e in produced}
    for payment in app.store.state.payments.values():
        purchases = [
            e
            for e in app.store.state.entries.values()
            if e.kind is EntryKind.PURCHASE and e.reference_id == payment.id
        ]
        if payment.status in PAID:
            assert [e.credits for e in purchases] == [payment.credits]
            assert granted_random[payment.id] == granted[payment.id] == 1
        else:
            assert purchases == []
            assert payment.status in (
                PaymentStatus.PENDING,
                PaymentStatus.FAILED,
                PaymentStatus.EXPIRED,
                PaymentStatus.CANCELED,
            )
        reversed_credits = -sum(
            e.credits
            for e in app.store.state.entries.values()
            if e.idempotency_key.startswith(
                (f"refund:{payment.id}:", f"refund_restored:{payment.id}:")
            )
        )
        assert reversed_credits == payment.credits_reversed
        if payment.amount_refunded == payment.amount:
            assert payment.credits_reversed == payment.credits


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Plan], bool, list[int], list[int]]:
    plans_ = draw(st.lists(plans(), min_size=1, max_size=3))
    # How many events the plans produce, computed the way _produce makes them.
    count = sum(_event_count(plan) for plan in plans_)
    order = draw(st.permutations(range(count)))
    repeats = draw(st.lists(st.integers(1, 5), min_size=count, max_size=count))
    return plans_, draw(st.booleans()), list(order), repeats


def _event_count(plan: Plan) -> int:
    stories = CHECKOUT_STORIES if plan.kind == "checkout" else INTENT_STORIES
    per_step = {CARD_OK: 2 if plan.kind == "checkout" else 1}
    steps = sum(per_step.get(step, 1) for step in stories[plan.story])
    failures = sum(report is not None for report in plan.failures)
    return steps + 2 * len(plan.refunds) + failures


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_any_order_and_number_of_deliveries_ends_in_the_same_state(
    scenario: tuple[list[Plan], bool, list[int], list[int]],
) -> None:
    asyncio.run(_check(*scenario))
