"""Subscription plans come from the same TOML file as packages, with defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import ConfigError, load_settings


def test_default_plans_are_a_monthly_and_a_yearly_tier() -> None:
    plans = load_settings({}).plans.plans
    assert [(p.id, p.interval.value) for p in plans] == [("monthly", "month"), ("yearly", "year")]
    assert all(p.credits_per_period > 0 for p in plans)


def test_plans_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[[plans]]\nid = "team"\nname = "Team"\nprice_id = "price_team"\namount = 5000\n'
        'currency = "usd"\ninterval = "month"\ncredits_per_period = 7000\nrollover_cap = 100\n',
        encoding="utf-8",
    )
    (plan,) = load_settings({"CREDITLINE_CONFIG": str(config)}).plans.plans
    assert (plan.id, plan.price_id, plan.credits_per_period, plan.rollover_cap) == (
        "team",
        "price_team",
        7000,
        100,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[plans]]\nid = "x"\n', "plans are invalid"),
        (
            '[[plans]]\nid = "x"\nname = "X"\nprice_id = "p"\namount = 100\ncurrency = "gbp"\n'
            'interval = "month"\ncredits_per_period = 10\n',
            "unsold currency",
        ),
        (
            '[[plans]]\nid = "x"\nname = "X"\nprice_id = "p"\namount = 100\ncurrency = "usd"\n'
            'interval = "week"\ncredits_per_period = 10\n',
            "plans are invalid",
        ),
    ],
)
def test_an_invalid_plan_stops_start_up_naming_it(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings({"CREDITLINE_CONFIG": str(config)})
