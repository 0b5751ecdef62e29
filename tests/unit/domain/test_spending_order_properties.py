"""Spending takes the soonest-expiring credits first (docs/ledger.md), across period
grants, rolled-over credits and purchased credits, which never expire and go last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import EntryKind, Lot
from domain.lots import allocate, consumption_order

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = [EntryKind.SUBSCRIPTION_GRANT, EntryKind.SUBSCRIPTION_ROLLOVER, EntryKind.PURCHASE]


@st.composite
def lots(draw: st.DrawFn) -> list[Lot]:
    found = []
    for entry_id in range(1, draw(st.integers(1, 8)) + 1):
        kind = draw(st.sampled_from(KINDS))
        credits = draw(st.integers(1, 3000))
        expires = None
        if kind is not EntryKind.PURCHASE:
            expires = T0 + timedelta(days=draw(st.sampled_from([30, 60, 90])))
        remaining = draw(st.integers(0, credits))
        found.append(Lot(entry_id, "u1", credits, remaining, expires, kind, f"k{entry_id}"))
    return found


@given(lots(), st.integers(1, 20000))
def test_a_debit_takes_the_soonest_expiring_credits_first_and_purchases_last(
    available: list[Lot], amount: int
) -> None:
    taken = dict(allocate(available, amount))
    by_id = {lot.entry_id: lot for lot in available}
    assert sum(taken.values()) == min(amount, sum(lot.remaining for lot in available))
    for lot_id, credits in taken.items():
        assert 0 < credits <= by_id[lot_id].remaining
    ordered = sorted(available, key=consumption_order)
    # Once a lot is not used up, no later lot in the order gives anything.
    drained = [taken.get(lot.entry_id, 0) == lot.remaining for lot in ordered]
    for i, lot in enumerate(ordered):
        if taken.get(lot.entry_id):
            assert all(drained[:i])
    expiring_left = sum(
        lot.remaining - taken.get(lot.entry_id, 0) for lot in available if lot.expires_at
    )
    purchased_taken = sum(
        credits for lot_id, credits in taken.items() if by_id[lot_id].expires_at is None
    )
    assert purchased_taken == 0 or expiring_left == 0
