"""The consumption rule of lots (domain.lots) and the postings that name a lot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import LotChanged, ValidationFailed
from domain.ledger import (
    Account,
    Allocation,
    EntryKind,
    Lot,
    Posting,
    expiry_posting,
    refund_posting,
)
from domain.lots import allocate, consume, consumption_order, covers, grant_remaining

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def lot(entry_id: int, remaining: int, days: int | None = None, user_id: str = "u1") -> Lot:
    expires_at = None if days is None else NOW + timedelta(days=days)
    kind = EntryKind.PURCHASE if days is None else EntryKind.TRIAL
    return Lot(entry_id, user_id, 100, remaining, expires_at, kind, f"g{entry_id}")


def test_soonest_expiry_first_non_expiring_last_ties_by_age() -> None:
    lots = [lot(1, 10), lot(2, 10, days=30), lot(3, 10, days=7), lot(4, 10), lot(5, 10, days=7)]
    assert allocate(lots, 45) == [(3, 10), (5, 10), (2, 10), (1, 10), (4, 5)]


def test_a_target_lot_goes_first_and_a_spent_or_unknown_one_is_skipped() -> None:
    lots = [lot(1, 10), lot(2, 10, days=7), lot(3, 0, days=1)]
    assert allocate(lots, 15, target=1) == [(1, 10), (2, 5)]
    assert allocate(lots, 15, target=3) == allocate(lots, 15, target=99) == [(2, 10), (1, 5)]


def test_what_the_lots_cannot_cover_is_left_over_as_debt() -> None:
    assert allocate([lot(1, 10)], 25) == [(1, 10)]
    assert allocate([], 25) == []
    with pytest.raises(ValidationFailed):
        allocate([lot(1, 10)], 0)


def test_an_expiry_takes_exactly_its_lots_unspent_part() -> None:
    expiring = lot(2, 30, days=-1)
    posting = expiry_posting(expiring)
    assert (posting.credits, posting.idempotency_key, posting.lot_entry_id) == (-30, "expiry:2", 2)
    assert consume(posting, [lot(1, 500), expiring]) == [(2, 30)]
    with pytest.raises(LotChanged):
        consume(posting, [lot(1, 500), lot(2, 20, days=-1)])
    with pytest.raises(LotChanged):
        consume(posting, [lot(1, 500)])


def test_only_the_posting_users_lots_are_consumed() -> None:
    posting = refund_posting("u1", "pay_1", "re_1", 30, lot_entry_id=2)
    lots = [lot(1, 100, user_id="u1"), lot(2, 100, user_id="u2")]
    assert consume(posting, lots) == [(1, 30)]


def test_a_grant_repays_debt_before_it_becomes_spendable() -> None:
    assert grant_remaining(100, balance_after=250) == 100
    assert grant_remaining(100, balance_after=60) == 60  # repaid 40 of debt
    assert grant_remaining(100, balance_after=-5) == 0  # all of it went to debt


def posting(credits: int, kind: EntryKind = EntryKind.USAGE_DEBIT) -> Posting:
    return Posting("u1", credits, kind, "test", "r", "k")


@pytest.mark.parametrize(
    ("balance", "held", "debit", "covered"),
    [
        (100, 0, 100, True),  # down to zero
        (100, 0, 101, False),
        (100, 30, 70, True),  # held credits are not available
        (100, 30, 71, False),
        (-40, 0, 1, False),  # a debt covers nothing
    ],
)
def test_a_debit_is_covered_by_the_available_balance_only(
    balance: int, held: int, debit: int, covered: bool
) -> None:
    assert covers(Account("u1", balance, held), posting(-debit)) is covered


def test_grants_and_reversals_need_no_cover() -> None:
    """A grant only adds; reversing credits already spent is recorded as debt."""
    empty = Account("u1", -40, 10)
    assert covers(empty, posting(5, EntryKind.COUPON))
    assert covers(empty, posting(-500, EntryKind.REFUND_REVERSAL))
    assert not covers(empty, posting(-500, EntryKind.USAGE_DEBIT))


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": EntryKind.PURCHASE, "expires_at": NOW},  # purchased credits never expire
        {"credits": 10, "lot_entry_id": 1},  # a grant consumes no lot
        {"kind": EntryKind.EXPIRY},  # an expiry names its lot
        {"kind": EntryKind.EXPIRY, "credits": 10, "lot_entry_id": 1},
    ],
)
def test_postings_that_break_a_lot_rule_are_refused(changes: dict[str, object]) -> None:
    fields = {"credits": -10, "kind": EntryKind.USAGE_DEBIT} | changes
    with pytest.raises(ValidationFailed):
        Posting("u1", reference_type="test", reference_id="r", idempotency_key="k", **fields)


lots_strategy = st.lists(
    st.builds(
        lot,
        entry_id=st.integers(1, 30),
        remaining=st.integers(0, 50),
        days=st.one_of(st.none(), st.integers(-3, 3)),
    ),
    unique_by=lambda lot: lot.entry_id,
    max_size=8,
)


@given(lots_strategy, st.integers(1, 300), st.one_of(st.none(), st.integers(1, 30)))
def test_allocate_takes_in_order_and_never_more_than_a_lot_holds(
    lots: list[Lot], amount: int, target: int | None
) -> None:
    allocations = allocate(lots, amount, target)
    by_id = {lot.entry_id: lot for lot in lots}
    assert sum(taken for _, taken in allocations) == min(amount, sum(x.remaining for x in lots))
    assert len({lot_id for lot_id, _ in allocations}) == len(allocations)
    assert all(0 < taken <= by_id[lot_id].remaining for lot_id, taken in allocations)
    rest = [a for a in allocations if a.lot_entry_id != target]
    if target in by_id and by_id[target].remaining > 0:
        assert allocations[0] == Allocation(target, min(amount, by_id[target].remaining))
    # Apart from the target: a prefix of the consumption order, each lot emptied but the last.
    order = [x.entry_id for x in sorted(lots, key=consumption_order) if x.remaining > 0]
    order = [lot_id for lot_id in order if lot_id != target]
    assert [lot_id for lot_id, _ in rest] == order[: len(rest)]
    assert all(taken == by_id[lot_id].remaining for lot_id, taken in rest[:-1])
