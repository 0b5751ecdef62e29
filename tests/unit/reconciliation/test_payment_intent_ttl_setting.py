"""PAYMENT_INTENT_TTL_HOURS: how long an unpaid PaymentIntent may stay open."""

from __future__ import annotations

import pytest

from entrypoints.settings import ConfigError, load_settings


def test_intents_are_kept_a_day_by_default_and_the_ttl_is_configurable() -> None:
    assert load_settings({}).payment_intent_ttl_hours == 24
    assert load_settings({"PAYMENT_INTENT_TTL_HOURS": "72"}).payment_intent_ttl_hours == 72


@pytest.mark.parametrize("raw", ["0", "721", "a day", "1.5"])
def test_a_bad_ttl_stops_start_up_with_its_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="PAYMENT_INTENT_TTL_HOURS"):
        load_settings({"PAYMENT_INTENT_TTL_HOURS": raw})
