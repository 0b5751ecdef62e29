"""The pure rules of coupons: codes, terms, and whether one may be redeemed now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.coupon import (
    Coupon,
    CouponTerms,
    check_not_in_debt,
    normalise_coupon_code,
    parse_coupon_code,
)
from domain.errors import (
    CouponBlockedByDebt,
    CouponExpired,
    CouponInactive,
    CouponNotAssigned,
    CouponNotYetValid,
    InvalidCouponCode,
    ValidationFailed,
)
from domain.ledger import EntryKind

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def coupon(**terms: object) -> Coupon:
    return Coupon("cpn_1", "WELCOME", CouponTerms(**{"credits": 500, **terms}), NOW)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("welcome-10", "WELCOME-10"), (" Spring_2026 ", "SPRING_2026"), ("abc", "ABC")],
)
def test_codes_are_case_insensitive(raw: str, code: str) -> None:
    assert normalise_coupon_code(raw) == code


@pytest.mark.parametrize("raw", ["ab", "x" * 51, "no spaces", "émoji", "semi;colon", ""])
def test_malformed_codes(raw: str) -> None:
    assert normalise_coupon_code(raw) is None
    with pytest.raises(InvalidCouponCode):
        parse_coupon_code(raw)


@pytest.mark.parametrize(
    "terms",
    [
        {"credits": 0},
        {"credits": 10_000_001},
        {"valid_from": NOW, "valid_until": NOW},
        {"max_redemptions": 0},
        {"credit_expiry_days": 0},
        {"credit_expiry_days": 3651},
    ],
)
def test_terms_are_valid_by_construction(terms: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        CouponTerms(**{"credits": 100, **terms})


@pytest.mark.parametrize(
    ("terms", "at", "error"),
    [
        ({"active": False}, NOW, CouponInactive),
        ({"valid_from": NOW + DAY}, NOW, CouponNotYetValid),
        ({"valid_until": NOW}, NOW, CouponExpired),  # valid_until is exclusive
        ({"assigned_user_id": "usr_other"}, NOW, CouponNotAssigned),
    ],
)
def test_why_a_coupon_cannot_be_redeemed(
    terms: dict[str, object], at: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        coupon(**terms).check_redeemable("usr_me", at)


def test_a_coupon_within_its_window_for_its_user_is_redeemable() -> None:
    mine = coupon(
        valid_from=NOW - DAY, valid_until=NOW + DAY, assigned_user_id="usr_me", max_redemptions=1
    )
    mine.check_redeemable("usr_me", NOW)
    mine.check_redeemable("usr_me", NOW - DAY)  # valid_from is inclusive


def test_the_grant_is_keyed_per_coupon_and_user_and_may_expire() -> None:
    grant = coupon(credit_expiry_days=30).grant("usr_me", NOW)
    assert grant.idempotency_key == "coupon:cpn_1:usr_me"
    assert (grant.credits, grant.kind, grant.expires_at) == (500, EntryKind.COUPON, NOW + 30 * DAY)
    assert coupon().grant("usr_me", NOW).expires_at is None


def test_users_in_debt_cannot_redeem() -> None:
    check_not_in_debt(0)
    with pytest.raises(CouponBlockedByDebt):
        check_not_in_debt(-1)
