"""The payment state machine: monotonic, whatever sequence of gateway reports arrives."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RefundExceedsRemaining, RefundNotAllowed
from domain.payment import PAID, Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def payment(amount: int = 1000, credits: int = 1000) -> Payment:
    return Payment(
        id="pay_1",
        user_id="usr_1",
        kind=PaymentKind.CHECKOUT,
        amount=amount,
        currency="usd",
        credits=credits,
        status=PaymentStatus.PENDING,
        created_at=NOW,
    )


def apply(p: Payment, action: tuple[str, int]) -> None:
    name, value = action
    if name == "complete":
        p.complete(NOW)
    elif name == "fail":
        p.fail("card_declined", NOW)
    elif name == "cancel":
        p.cancel("abandoned", NOW)
    elif name == "expire":
        p.expire(NOW)
    elif name == "refund" and p.is_paid:
        p.record_refund(value, NOW, refund_id="re_1")


actions = st.lists(
    st.tuples(
        st.sampled_from(["complete", "fail", "cancel", "expire", "refund"]),
        st.integers(min_value=1, max_value=1500),
    ),
    max_size=30,
)


@given(actions)
def test_completed_never_goes_back(sequence: list[tuple[str, int]]) -> None:
    p = payment()
    seen_paid = False
    for action in sequence:
        apply(p, action)
        if p.status in PAID:
            seen_paid = True
        if seen_paid:
            assert p.status in PAID
            assert p.status not in {
                PaymentStatus.PENDING,
                PaymentStatus.FAILED,
                PaymentStatus.EXPIRED,
                PaymentStatus.CANCELED,
            }


@given(actions)
def test_complete_reports_true_exactly_once(sequence: list[tuple[str, int]]) -> None:
    p = payment()
    grants = 0
    for name, value in sequence:
        if name == "complete":
            grants += p.complete(NOW)
        else:
            apply(p, (name, value))
    assert grants == (1 if p.is_paid else 0)


@given(
    st.lists(st.integers(min_value=1, max_value=2000), max_size=20),
    st.integers(min_value=50, max_value=100_000),
    st.integers(min_value=1, max_value=100_000),
)
def test_refund_reversal_is_proportional_and_sums_to_credits(
    refunds: list[int], amount: int, credits: int
) -> None:
    p = payment(amount, credits)
    p.complete(NOW)
    total = 0
    for n, r in enumerate(refunds):
        total += p.record_refund(r, NOW, refund_id=f"re_{n}")
        assert 0 <= total <= credits
        assert total == credits * p.amount_refunded // amount
    p.record_refund(amount, NOW, refund_id="re_last")
    assert p.credits_reversed == credits
    assert p.status is PaymentStatus.REFUNDED


def test_failed_is_not_final_a_retry_can_complete() -> None:
    p = payment()
    assert p.fail("insufficient_funds", NOW)
    assert p.complete(NOW)
    assert p.status is PaymentStatus.COMPLETED and p.failure_reason is None


def test_late_failure_or_expiry_after_completion_is_ignored() -> None:
    p = payment()
    p.complete(NOW)
    assert not p.fail("card_declined", NOW)
    assert not p.expire(NOW)
    assert not p.cancel("x", NOW)
    assert p.status is PaymentStatus.COMPLETED


def test_expired_and_canceled_are_final_except_money_actually_taken() -> None:
    p = payment()
    p.expire(NOW)
    assert p.fail("x", NOW) and p.status is PaymentStatus.EXPIRED, "keeps the reason only"
    assert not p.fail("y", NOW) and p.failure_reason == "x"
    assert p.complete(NOW), "a success the gateway reports is never dropped"


def test_refund_checks() -> None:
    p = payment()
    with pytest.raises(RefundNotAllowed):
        p.check_refund(100)
    p.complete(NOW)
    p.check_refund(1000)
    with pytest.raises(RefundExceedsRemaining):
        p.check_refund(1001)
    p.record_refund(400, NOW, refund_id="re_1")
    assert p.status is PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(RefundExceedsRemaining):
        p.check_refund(601)
    with pytest.raises(RefundNotAllowed):
        p.check_refund(0)
