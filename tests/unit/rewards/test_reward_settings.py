"""The referral and trial settings: defaults, and one line naming a bad value."""

from __future__ import annotations

import pytest

from domain.referral import ReferralTerms
from domain.trial import TrialTerms
from entrypoints.settings import ConfigError, load_settings


def test_defaults_pay_1000_credits_each_for_a_ten_dollar_purchase_and_no_trial() -> None:
    settings = load_settings({})
    assert settings.referral_terms == ReferralTerms(1000, 1000, 10)
    assert settings.trial_terms == TrialTerms(0, 14)


def test_values_are_read() -> None:
    env = {
        "REFERRAL_MIN_PURCHASE": "2000",
        "REFERRAL_BONUS_CREDITS": "500",
        "REFERRAL_MAX_USES": "3",
        "TRIAL_CREDITS": "250",
        "TRIAL_DAYS": "7",
    }
    settings = load_settings(env)
    assert settings.referral_terms == ReferralTerms(2000, 500, 3)
    assert settings.trial_terms == TrialTerms(250, 7)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REFERRAL_MIN_PURCHASE", "0"),
        ("REFERRAL_BONUS_CREDITS", "ten"),
        ("REFERRAL_MAX_USES", "0"),
        ("TRIAL_CREDITS", "-1"),
        ("TRIAL_DAYS", "0"),
    ],
)
def test_a_bad_value_names_its_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as raised:
        load_settings({name: value})
    assert "\n" not in str(raised.value)
