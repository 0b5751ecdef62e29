"""Whatever the order or number of deliveries, referrals, trials, coupons and expiries
end the same (docs/webhooks.md), with partial and failed refunds among the events.

The payment plans of ``test_any_delivery_order_same_state`` are played for two users
referred by a third, one holding trial credits and one a coupon's. The canonical run
applies the events in the order they were produced and then expires credits; the
random run, on a copy of the same start, shuffles the events and the expiry run
together and delivers each event one to five times. Both must end in the same
balances, open lots, referral states, referrer uses, payments and refunds, with a
clean ``ledger verify``.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.uow import MemoryStore
from tests.unit.conftest import make_app
from tests.unit.webhooks.delivery_histories import EXPIRE, deliver, final_state, sign_ups
from tests.unit.webhooks.test_any_delivery_order_same_state import (
    Plan,
    _event_count,
    _produce,
    plans,
)

EXAMPLES = 150


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Plan], list[int], list[int]]:
    plans_ = draw(st.lists(plans(), min_size=1, max_size=3))
    count = sum(_event_count(plan) for plan in plans_) + 1  # and the expiry run
    order = draw(st.permutations(range(count)))
    repeats = draw(st.lists(st.integers(1, 5), min_size=count, max_size=count))
    return plans_, list(order), repeats


async def _check(plans_: list[Plan], order: list[int], repeats: list[int]) -> None:
    app = make_app()
    users, referrer = await sign_ups(app)
    for plan in plans_:
        await _produce(app, plan, users)
    produced = [*app.kept_events(), EXPIRE]
    assert len(produced) == len(order)
    payment_ids = sorted(app.store.state.payments)
    start, clock_start = app.store.state.copy(), app.clock.now()
    everyone = [*users, referrer]

    await deliver(app, list(produced))
    canonical = await final_state(app.store.uow_factory, everyone, payment_ids)
    assert canonical["mismatches"] == []

    app.store = MemoryStore()
    app.store.state = start.copy()
    app.clock.advance(clock_start - app.clock.now())
    await deliver(app, [produced[i] for i in order for _ in range(repeats[i])])
    assert await final_state(app.store.uow_factory, everyone, payment_ids) == canonical


@settings(max_examples=EXAMPLES, deadline=None)
@given(histories())
def test_rewards_trials_coupons_and_expiries_end_the_same_in_any_delivery_order(
    history: tuple[list[Plan], list[int], list[int]],
) -> None:
    asyncio.run(_check(*history))
