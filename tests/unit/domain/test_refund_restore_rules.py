"""``Payment.restore_refund``: a refund that fails at the gateway is undone.

Property: whatever the order in which refunds are applied and failures reported, the
payment always holds ``credits_reversed == credits * refunded // amount`` for the
refunds that still stand, no reversal or restoration is ever negative, and what was
reversed less what was restored is exactly ``credits_reversed`` (what the ledger holds).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidTransition
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def paid(amount: int = 1000, credits: int = 1000) -> Payment:
    p = Payment(
        "pay_1", "usr_1", PaymentKind.CHECKOUT, amount, "usd", credits, PaymentStatus.PENDING, NOW
    )
    p.complete(NOW)
    return p


def test_a_failed_refund_gives_back_what_it_reversed_and_the_payment_is_completed_again() -> None:
    p = paid(1234, 1332)
    reversed_credits = p.record_refund(1234, NOW, refund_id="re_1")
    assert p.status is PaymentStatus.REFUNDED

    assert p.restore_refund(0, NOW, refund_id="re_1") == reversed_credits == 1332
    assert (p.status, p.amount_refunded, p.credits_reversed) == (PaymentStatus.COMPLETED, 0, 0)


def test_a_failed_refund_beside_one_that_stands_leaves_it_partially_refunded() -> None:
    p = paid()
    p.record_refund(300, NOW, refund_id="re_1")
    p.record_refund(200, NOW, refund_id="re_2")

    assert p.restore_refund(300, NOW, refund_id="re_2") == 200
    assert (p.status, p.amount_refunded, p.credits_reversed) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        300,
        300,
    )


def test_standing_refunds_covering_the_whole_amount_keep_it_refunded() -> None:
    """A stale report let a failed refund apply after others had refunded everything
    (its own amount was capped to nothing): its failure restores nothing."""
    p = paid()
    p.record_refund(1000, NOW, refund_id="re_1")
    assert p.record_refund(500, NOW, refund_id="re_2") == 0

    assert p.restore_refund(1000, NOW, refund_id="re_2") == 0
    assert (p.status, p.amount_refunded, p.credits_reversed) == (PaymentStatus.REFUNDED, 1000, 1000)


def test_an_unpaid_payment_has_nothing_to_restore() -> None:
    p = paid()
    p.status = PaymentStatus.PENDING
    with pytest.raises(InvalidTransition):
        p.restore_refund(0, NOW, refund_id="re_1")


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, int, list[int], list[tuple[str, int]]]:
    """A payment, its refunds, and the order in which they are applied or reported failed."""
    amount = draw(st.integers(50, 5000))
    credits = draw(st.integers(1, 10_000))
    refunds = draw(st.lists(st.integers(1, amount), min_size=1, max_size=6))
    failing = draw(st.lists(st.booleans(), min_size=len(refunds), max_size=len(refunds)))
    steps = [("apply", n) for n in range(len(refunds))]
    steps += [("fail", n) for n, fails in enumerate(failing) if fails]
    return amount, credits, refunds, draw(st.permutations(steps))


@given(histories())
def test_any_order_of_refunds_and_failures_ends_where_the_standing_refunds_put_it(
    history: tuple[int, int, list[int], list[tuple[str, int]]],
) -> None:
    amount, credits, refunds, steps = history
    p = paid(amount, credits)
    seen: dict[int, str] = {}  # what the refund log would hold: "applied" or "failed"
    net = 0
    for step, n in steps:
        if step == "apply" and n not in seen:
            reversed_now = p.record_refund(refunds[n], NOW, refund_id=f"re_{n}")
            assert reversed_now >= 0
            net += reversed_now
            seen[n] = "applied"
        elif step == "fail" and seen.get(n) != "failed":
            if seen.get(n) == "applied":
                standing = sum(refunds[m] for m, how in seen.items() if how == "applied" and m != n)
                restored = p.restore_refund(standing, NOW, refund_id=f"re_{n}")
                assert restored >= 0
                net -= restored
            seen[n] = "failed"
        assert p.credits_reversed == net == credits * p.amount_refunded // amount

    expected = paid(amount, credits)
    for n, how in seen.items():
        if how == "applied":
            expected.record_refund(refunds[n], NOW, refund_id=f"re_{n}")
    assert (p.status, p.amount_refunded, p.credits_reversed) == (
        expected.status,
        expected.amount_refunded,
        expected.credits_reversed,
    )
