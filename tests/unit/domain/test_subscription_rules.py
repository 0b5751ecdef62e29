"""The subscription rules: forward-only state, what a paid invoice grants, refunds in
proportion, rollover up to a cap, plans valid by construction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import UnknownPlan, ValidationFailed
from domain.money import Money
from domain.plans import Interval, Plan, PlanCatalogue
from domain.subscription import (
    InvoiceLine,
    Subscription,
    SubscriptionInvoice,
    SubscriptionSnapshot,
    SubscriptionStatus,
    billed_price,
    invoice_credits,
    rollover_credits,
    rollover_key,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = timedelta(days=31)
BASIC = Plan("basic", "Basic", "price_basic", Money(1000, "usd"), Interval.MONTH, 1000)
PRO = Plan("pro", "Pro", "price_pro", Money(4000, "usd"), Interval.MONTH, 6000)
BY_PRICE = PlanCatalogue.of([BASIC, PRO]).by_price()


def snapshot(
    status: SubscriptionStatus, start: datetime = T0, **changes: object
) -> SubscriptionSnapshot:
    base = SubscriptionSnapshot("sub_1", "cus_1", "price_basic", status, start, start + MONTH)
    return replace(base, **changes)  # type: ignore[arg-type]


def started() -> Subscription:
    return Subscription.start(snapshot(SubscriptionStatus.ACTIVE), "u1", "basic", T0)


def test_a_canceled_subscription_stays_canceled() -> None:
    canceled = started().observe(snapshot(SubscriptionStatus.CANCELED), None, T0)
    assert canceled is not None and canceled.status is SubscriptionStatus.CANCELED
    assert canceled.observe(snapshot(SubscriptionStatus.ACTIVE), None, T0) is None


def test_a_snapshot_of_an_earlier_period_is_stale() -> None:
    later = started().observe(snapshot(SubscriptionStatus.PAST_DUE, T0 + MONTH), None, T0)
    assert later is not None and later.status is SubscriptionStatus.PAST_DUE
    assert later.observe(snapshot(SubscriptionStatus.ACTIVE, T0), None, T0) is None
    recovered = later.observe(snapshot(SubscriptionStatus.ACTIVE, T0 + MONTH), None, T0)
    assert recovered is not None and recovered.status is SubscriptionStatus.ACTIVE


def test_the_same_state_again_changes_nothing() -> None:
    assert started().observe(snapshot(SubscriptionStatus.ACTIVE), "basic", T0 + MONTH) is None


def line(price: str, amount: int, *, proration: bool = False) -> InvoiceLine:
    return InvoiceLine(price, amount, T0, T0 + MONTH, proration)


def test_a_full_period_grants_the_plans_credits_and_a_free_line_nothing() -> None:
    assert invoice_credits([line("price_basic", 1000)], BY_PRICE) == 1000
    assert invoice_credits([line("price_basic", 0)], BY_PRICE) == 0  # a trial period
    assert invoice_credits([line("price_other", 1000)], BY_PRICE) == 0


def test_an_upgrade_grants_the_difference_for_the_rest_of_the_period() -> None:
    """Half the period left: -500 unused on Basic, +2000 on Pro -> (6000 - 1000) / 2."""
    lines = [line("price_basic", -500, proration=True), line("price_pro", 2000, proration=True)]
    assert invoice_credits(lines, BY_PRICE) == 2500
    assert billed_price(lines) == "price_pro"


def test_a_downgrade_with_proration_never_takes_credits() -> None:
    lines = [line("price_pro", -2000, proration=True), line("price_basic", 500, proration=True)]
    assert invoice_credits(lines, BY_PRICE) == 0


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_proration_rounds_down(remaining: int, length: int) -> None:
    remaining = min(remaining, length)
    lines = [
        line("price_basic", -(1000 * remaining // length), proration=True),
        line("price_pro", 4000 * remaining // length, proration=True),
    ]
    exact = (6000 * (4000 * remaining // length)) / 4000 - 1000 * (
        1000 * remaining // length
    ) / 1000
    assert invoice_credits(lines, BY_PRICE) <= exact


@given(st.lists(st.integers(1, 2000), min_size=1, max_size=5))
def test_refunds_reverse_in_proportion_and_all_of_it_once_refunded_in_full(
    parts: list[int],
) -> None:
    invoice = SubscriptionInvoice(
        "in_1", "sub_1", "u1", "subscription_cycle", T0, T0 + MONTH, 2000, "usd", 2500, T0
    )
    reversed_total = 0
    for part in parts:
        reversed_total += invoice.credits_to_reverse(part)
        invoice = invoice.refunded(part)
        assert invoice.credits_reversed == reversed_total <= 2500
    remaining = invoice.amount_paid - invoice.amount_refunded
    if remaining:
        reversed_total += invoice.credits_to_reverse(remaining)
        invoice = invoice.refunded(remaining)
    assert reversed_total == invoice.credits_reversed == 2500


def test_rollover_is_capped_and_never_negative() -> None:
    assert rollover_credits(300, 500) == 300
    assert rollover_credits(900, 500) == 500
    assert rollover_credits(-10, 500) == 0
    assert rollover_key("sub_1", T0) != rollover_key("sub_1", T0, 1)


def test_plans_are_valid_by_construction_and_found_by_id() -> None:
    with pytest.raises(ValidationFailed):
        Plan("x", "X", "price_x", Money(1000, "usd"), Interval.MONTH, 0)
    with pytest.raises(ValidationFailed):
        Plan("x", "X", "price_x", Money(1000, "usd"), Interval.MONTH, 10, rollover_cap=-1)
    with pytest.raises(ValidationFailed):
        PlanCatalogue.of([BASIC, replace(BASIC, id="other")])
    with pytest.raises(UnknownPlan):
        PlanCatalogue.of([BASIC]).get("gold")
