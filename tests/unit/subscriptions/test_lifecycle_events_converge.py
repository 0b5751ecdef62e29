"""Any order and any number of deliveries of a subscription's events end the same.

Hypothesis draws a lifecycle at the gateway (renewals, declined renewals and their
retries, upgrades with and without proration, downgrades, cancel at period end,
resume, cancel now) for a plan with or without rollover. Its events are applied once
each in the order produced on one copy of the store, and shuffled, each delivered one
to three times, on another. Both must end with the same subscription, the same paid
invoices and grants, the same rollovers and balances; the first invoice is granted
once although its Checkout also completes. Decisions come from the subscription's
state at the gateway, applied forward only (docs/failure-modes.md #14).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.uow import MemoryStore
from application.subscriptions.gateway import PlanChange
from domain.errors import GatewayRejected
from domain.ledger import EntryKind
from tests.unit.subscriptions.world import BASIC, PLUS, PRO, World

STEPS = [
    "renew",
    "fail_next",
    "retry",
    "upgrade",
    "upgrade_next_period",
    "downgrade",
    "cancel_at_end",
    "resume",
    "cancel_now",
]


async def act(world: World, subscription_id: str, step: str) -> None:
    gateway = world.gateway
    try:
        if step == "renew":
            await gateway.renew_subscription(subscription_id, "never")
        elif step == "fail_next":
            await gateway.fail_next_renewal(subscription_id)
        elif step == "retry":
            await gateway.retry_subscription_payment(subscription_id, "never")
        elif step in ("upgrade", "upgrade_next_period", "downgrade"):
            plan = BASIC if step == "downgrade" else PRO
            await gateway.change_subscription(
                PlanChange(subscription_id, plan, step == "upgrade", None)
            )
        elif step == "cancel_at_end":
            await gateway.cancel_subscription(subscription_id, True, None)
        elif step == "resume":
            await gateway.resume_subscription(subscription_id, None)
        else:
            await gateway.cancel_subscription(subscription_id, False, None)
    except GatewayRejected:
        pass  # not possible now (a canceled subscription, no open invoice, a declined upgrade)
    world.clock.advance(timedelta(days=3))


def summary(store: MemoryStore, user_id: str) -> dict[str, Any]:
    state = store.state
    subs = state.subscriptions
    entries = list(state.entries.values())

    def total(kind: EntryKind) -> int:
        return sum(e.credits for e in entries if e.kind is kind and e.user_id == user_id)

    return {
        "subscriptions": {
            s.id: (s.status, s.price_id, s.current_period_start, s.cancel_at_period_end)
            for s in subs.subscriptions.values()
        },
        "invoices": {
            i.invoice_id: (i.credits, i.period_start, i.period_end, i.rolled_in)
            for i in subs.invoices.values()
        },
        "grants": {
            e.idempotency_key: e.credits
            for e in entries
            if e.idempotency_key.startswith("invoice:")
        },
        "rolled_over": total(EntryKind.SUBSCRIPTION_ROLLOVER),
        "expired": total(EntryKind.EXPIRY),
        "balance": state.accounts[user_id].balance,
    }


def consistent(store: MemoryStore) -> None:
    """Every balance is the sum of its entries; no invoice granted twice."""
    by_user: Counter[str] = Counter()
    for entry in store.state.entries.values():
        by_user[entry.user_id] += entry.credits
    for user_id, account in store.state.accounts.items():
        assert account.balance == by_user[user_id]
    paid = [i for i in store.state.subscriptions.invoices.values() if i.credits > 0]
    grants = [e for e in store.state.entries.values() if e.kind is EntryKind.SUBSCRIPTION_GRANT]
    assert len(grants) == len(paid)


@settings(max_examples=60, deadline=None)
@given(
    plan=st.sampled_from([BASIC, PLUS]),
    steps=st.lists(st.sampled_from(STEPS), max_size=8),
    data=st.data(),
)
def test_any_order_and_number_of_deliveries_ends_in_the_same_state(
    plan: Any, steps: list[str], data: st.DataObject
) -> None:
    asyncio.run(_run(plan, steps, data))


async def _run(plan: Any, steps: list[str], data: st.DataObject) -> None:
    world = World()
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, plan)
    for step in steps:
        await act(world, subscription_id, step)
    events = world.new_events()
    canonical = MemoryStore()
    canonical.state = world.store.state.copy()  # the user, their customer, the plans
    shuffled = MemoryStore()
    shuffled.state = world.store.state.copy()

    await world.apply(events, canonical)
    deliveries = [e for e in events for _ in range(data.draw(st.integers(1, 3)))]
    order = data.draw(st.permutations(deliveries))
    await world.apply(list(order), shuffled)

    consistent(canonical)
    consistent(shuffled)
    assert summary(shuffled, user_id) == summary(canonical, user_id)
    first = [e for e in canonical.state.entries.values() if e.kind is EntryKind.SUBSCRIPTION_GRANT]
    assert first and first[0].credits == plan.credits_per_period


def test_a_late_update_after_the_deletion_changes_nothing() -> None:
    async def run() -> None:
        world = World()
        user_id = await world.user()
        subscription_id = await world.subscribe(user_id, PLUS)
        world.new_events()
        await world.gateway.cancel_subscription(subscription_id, True, None)
        updated = world.new_events()
        await world.gateway.cancel_subscription(subscription_id, False, None)
        deleted = world.new_events()
        await world.apply(deleted)
        await world.apply(updated)  # late, stale: the subscription stays canceled
        state = world.store.state.subscriptions.subscriptions[subscription_id]
        assert state.status.value == "canceled"

    asyncio.run(run())
