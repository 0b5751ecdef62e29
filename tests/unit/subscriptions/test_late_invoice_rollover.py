"""A rollover into a period that is already closed is closed with it.

With the ``plus`` plan (2500 a period, rollover cap 500) and three paid periods, the
first period rolls 500 into the second, and the second's unused 3000 expire with 500
rolled into the third: 3000 left whatever order the invoices are paid in. Paying the
first invoice last once left its 500 alive in the already-closed second period.
"""

from __future__ import annotations

from adapters.memory.uow import MemoryStore
from application.webhooks.events import GatewayEvent, InvoicePaid
from domain.ledger import EntryKind
from tests.unit.subscriptions.world import PLUS, World


def _totals(store: MemoryStore, user_id: str) -> tuple[int, int, int]:
    entries = [e for e in store.state.entries.values() if e.user_id == user_id]

    def total(kind: EntryKind) -> int:
        return sum(e.credits for e in entries if e.kind is kind)

    balance = store.state.accounts[user_id].balance
    assert balance == sum(e.credits for e in entries)
    return balance, total(EntryKind.SUBSCRIPTION_ROLLOVER), total(EntryKind.EXPIRY)


async def _three_paid_periods(world: World) -> tuple[str, list[GatewayEvent]]:
    user_id = await world.user()
    subscription_id = await world.subscribe(user_id, PLUS)
    for _ in range(2):
        await world.gateway.renew_subscription(subscription_id, "never")
    return user_id, world.new_events()


def _first_invoice_paid_last(events: list[GatewayEvent]) -> list[GatewayEvent]:
    first = next(e for e in events if isinstance(e, InvoicePaid))
    return [e for e in events if e is not first] + [first]


async def test_first_invoice_paid_after_both_renewals_rolls_over_as_in_order() -> None:
    world = World()
    user_id, events = await _three_paid_periods(world)
    in_order, late_first = MemoryStore(), MemoryStore()
    in_order.state = world.store.state.copy()
    late_first.state = world.store.state.copy()

    await world.apply(events, in_order)
    await world.apply(_first_invoice_paid_last(events), late_first)

    assert _totals(in_order, user_id) == (3000, 1000, -5500)
    assert _totals(late_first, user_id) == (3000, 1000, -5500)
