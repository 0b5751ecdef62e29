"""The delivery-order property with referrals, trials, coupons and expiries, on PostgreSQL.

The histories of ``test_any_delivery_order_same_state_with_rewards``: the canonical run
on the memory adapters, the random run (shuffled, duplicated, the expiry run anywhere)
on PostgreSQL from the same start, loaded through the ports. Both must end in the same
balances, open lots, referral states, uses, payments and refunds, with a clean verify.
A smaller example budget: each example migrates nothing but truncates and reloads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings

from adapters.clock import FixedClock
from adapters.memory.state import MemoryState
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from domain.ledger import Posting
from tests.conftest import _empty_tables, run_async
from tests.unit.conftest import App, make_app
from tests.unit.webhooks.delivery_histories import EXPIRE, deliver, final_state, sign_ups
from tests.unit.webhooks.test_any_delivery_order_same_state import Plan, _produce
from tests.unit.webhooks.test_any_delivery_order_same_state_with_rewards import histories

EXAMPLES = 20

pytestmark = pytest.mark.postgres


@dataclass
class SqlStore:
    """What ``App`` and ``deliver`` use of a store: its unit-of-work factory."""

    uow_factory: UnitOfWorkFactory


async def _load(factory: UnitOfWorkFactory, start: MemoryState) -> None:
    """The memory start, written through the ports (entries replayed in order)."""
    async with factory() as uow:
        for user_id in start.accounts:
            await uow.ledger.open_account(user_id)
        for entry in sorted(start.entries.values(), key=lambda e: e.id):
            posting = Posting(
                entry.user_id,
                entry.credits,
                entry.kind,
                entry.reference_type,
                entry.reference_id,
                entry.idempotency_key,
                expires_at=entry.expires_at,
            )
            await uow.ledger.post(posting, entry.created_at)
        for referral in start.rewards.referrals.values():
            await uow.referrals.add(referral)
        for payment in start.payments.values():
            await uow.payments.add(payment)
        await uow.commit()


async def _check(url: str, plans_: list[Plan], order: list[int], repeats: list[int]) -> None:
    app = make_app()
    users, referrer = await sign_ups(app)
    for plan in plans_:
        await _produce(app, plan, users)
    produced = [*app.kept_events(), EXPIRE]
    assert len(produced) == len(order)
    payment_ids = sorted(app.store.state.payments)
    everyone = [*users, referrer]
    start, now = app.store.state.copy(), app.clock.now()
    await deliver(app, list(produced))
    canonical = await final_state(app.store.uow_factory, everyone, payment_ids)

    engine = make_engine(url)
    try:
        factory = uow_factory(engine)
        await _load(factory, start)
        on_sql = App(SqlStore(factory), FixedClock(now), app.gateway)  # type: ignore[arg-type]
        await deliver(on_sql, [produced[i] for i in order for _ in range(repeats[i])])
        assert await final_state(factory, everyone, payment_ids) == canonical
    finally:
        await engine.dispose()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(histories())
def test_any_delivery_order_ends_the_same_on_postgres(
    pg_url: str, history: tuple[list[Plan], list[int], list[int]]
) -> None:
    run_async(lambda: _empty_tables(pg_url))
    asyncio.run(_check(pg_url, *history))
