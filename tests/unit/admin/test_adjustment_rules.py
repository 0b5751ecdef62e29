"""The operator's adjustment rules, as pure functions."""

from __future__ import annotations

import pytest

from domain.admin import Adjustment, AdjustmentLimits, adjustment_posting, check_grant
from domain.errors import AdminDailyGrantLimit, AdminGrantTooLarge, DomainError, ValidationFailed
from domain.ledger import EntryKind, Posting

LIMITS = AdjustmentLimits(max_grant=100, daily_grant_limit=250)


def test_a_grant_is_capped_alone_and_with_the_last_24_hours() -> None:
    check_grant(100, 150, LIMITS)
    with pytest.raises(AdminGrantTooLarge):
        check_grant(101, 0, LIMITS)
    with pytest.raises(AdminDailyGrantLimit) as refused:
        check_grant(100, 151, LIMITS)
    assert "99 more credits" in refused.value.message


def test_a_debit_is_never_capped() -> None:
    check_grant(-10_000, 10_000, LIMITS)


@pytest.mark.parametrize(
    ("credits", "reason", "debt", "code"),
    [
        (0, "a good reason", False, "zero_credits"),
        (5, "too short", False, "reason_too_short"),
        (5, "          padded    ", False, "reason_too_short"),
        (5, "a good reason", True, "debt_needs_a_debit"),
    ],
)
def test_an_adjustment_needs_credits_a_reason_and_debt_only_for_debits(
    credits: int, reason: str, debt: bool, code: str
) -> None:
    with pytest.raises(DomainError) as refused:
        Adjustment("u1", credits, reason, "k", allow_debt=debt)
    assert (refused.value.code, refused.value.status) == (code, 422)


def test_the_entry_names_the_admin_key_and_only_it_may_record_debt() -> None:
    posting = adjustment_posting(Adjustment("u1", -5, "a good reason", "k", True), "operator_x")
    assert (posting.kind, posting.reference_id, posting.may_go_negative) == (
        EntryKind.ADMIN_ADJUSTMENT,
        "operator_x",
        True,
    )
    assert posting.idempotency_key == "admin:operator_x:k"
    with pytest.raises(ValidationFailed):
        Posting("u1", -5, EntryKind.USAGE_DEBIT, "t", "r", "k2", allow_debt=True)
