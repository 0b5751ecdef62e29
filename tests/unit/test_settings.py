from typing import Any

import pytest

from adapters.sqlalchemy.engine import make_engine
from entrypoints.settings import ConfigError, load_settings


def test_defaults_are_sandbox_on_sqlite() -> None:
    s = load_settings({})
    assert s.payment_gateway == "sandbox"
    assert s.database_url.startswith("sqlite+aiosqlite")
    assert s.port == 8000 and s.stripe_webhook_secrets
    assert [p.credits for p in s.pricing.packages] == [1000, 5500, 12000]


def test_stripe_is_chosen_by_secret_key_and_needs_a_webhook_secret() -> None:
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_settings({"STRIPE_SECRET_KEY": "sk_test_x"})
    s = load_settings(
        {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_a, whsec_b"}
    )
    assert s.payment_gateway == "stripe"
    assert s.stripe_webhook_secrets == ("whsec_a", "whsec_b")
    assert "sk_test_x" not in repr(s)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "http"}, "PORT"),
        ({"CHECKOUT_EXPIRES_MINUTES": "10"}, "CHECKOUT_EXPIRES_MINUTES"),
        ({"CHECKOUT_EXPIRES_MINUTES": "1441"}, "CHECKOUT_EXPIRES_MINUTES"),
        ({"PAYMENT_GATEWAY": "paypal"}, "PAYMENT_GATEWAY"),
        ({"APP_ENV": "production"}, "sandbox"),
        ({"FRONTEND_URL": "not a url"}, "FRONTEND_URL"),
        ({"CREDITLINE_CONFIG": "/nonexistent.toml"}, "CREDITLINE_CONFIG"),
        ({"TRUSTED_PROXIES": "10.0.0.1,proxy.local"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"),
        ({"MAX_API_KEYS_PER_USER": "0"}, "MAX_API_KEYS_PER_USER"),
        ({"MAX_API_KEYS_PER_USER": "many"}, "MAX_API_KEYS_PER_USER"),
    ],
)
def test_invalid_settings_name_themselves(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def test_trusted_proxies_and_the_key_cap() -> None:
    defaults = load_settings({})
    assert (defaults.trusted_proxies, defaults.max_api_keys_per_user) == ((), 20)
    s = load_settings(
        {"TRUSTED_PROXIES": " 10.0.0.0/8, ::1 ,192.0.2.7", "MAX_API_KEYS_PER_USER": "5"}
    )
    assert [str(n) for n in s.trusted_proxies] == ["10.0.0.0/8", "::1/128", "192.0.2.7/32"]
    assert s.max_api_keys_per_user == 5


def test_toml_config_packages_and_currencies(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[currencies.eur]\ncredits_numerator = 108\ncredits_denominator = 100\n"
        '[[packages]]\nid = "eur10"\nname = "Ten euros"\ncredits = 1080\namount = 1000\n'
        'currency = "eur"\npopular = true\n'
    )
    s = load_settings({"CREDITLINE_CONFIG": str(path)})
    assert s.pricing.rates["eur"].credits_for(1000) == 1080
    assert s.pricing.package("eur10").popular
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[packages]]\nid = "x"\nname = "X"\ncredits = 10\namount = 10\ncurrency = "gbp"\n'
    )
    with pytest.raises(ConfigError, match="unsold currency"):
        load_settings({"CREDITLINE_CONFIG": str(bad)})


OUTBOUND_SECRET = "whsec_outbound_0123456789"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"OUTBOUND_WEBHOOK_URL": "ftp://example.com/hooks"}, "OUTBOUND_WEBHOOK_URL"),
        ({"OUTBOUND_WEBHOOK_URL": "https://example.com/hooks"}, "OUTBOUND_WEBHOOK_SECRET"),
        ({"OUTBOUND_WEBHOOK_SECRET": "short"}, "OUTBOUND_WEBHOOK_SECRET"),
        ({"OUTBOUND_DELIVERY_IN_SERVE": "sometimes"}, "OUTBOUND_DELIVERY_IN_SERVE"),
        ({"OUTBOUND_DELIVERY_INTERVAL": "0"}, "OUTBOUND_DELIVERY_INTERVAL"),
        ({"OUTBOUND_WEBHOOK_TIMEOUT": "61"}, "OUTBOUND_WEBHOOK_TIMEOUT"),
        ({"AUTO_TOP_UP_IN_SERVE": "sometimes"}, "AUTO_TOP_UP_IN_SERVE"),
        ({"AUTO_TOP_UP_INTERVAL": "0"}, "AUTO_TOP_UP_INTERVAL"),
    ],
)
def test_invalid_outbound_settings_name_themselves(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def test_outbound_delivery_is_off_without_a_url_and_signs_with_every_secret() -> None:
    off = load_settings({}).outbound
    on = load_settings(
        {
            "OUTBOUND_WEBHOOK_URL": "https://product.example.com/hooks/",
            "OUTBOUND_WEBHOOK_SECRET": f"{OUTBOUND_SECRET}, {OUTBOUND_SECRET}_old",
            "OUTBOUND_DELIVERY_IN_SERVE": "False",
        }
    ).outbound

    assert not off.enabled and off.in_serve
    assert on.enabled and on.url == "https://product.example.com/hooks/"
    assert on.secrets == (OUTBOUND_SECRET, f"{OUTBOUND_SECRET}_old")
    assert not on.in_serve and (on.interval_seconds, on.timeout_seconds) == (5, 10)
    assert OUTBOUND_SECRET not in repr(on)


def test_auto_top_up_runs_in_serve_every_15_seconds_unless_turned_off() -> None:
    default = load_settings({}).auto_top_up
    off = load_settings({"AUTO_TOP_UP_IN_SERVE": "false", "AUTO_TOP_UP_INTERVAL": "60"})

    assert (default.in_serve, default.interval_seconds) == (True, 15)
    assert (off.auto_top_up.in_serve, off.auto_top_up.interval_seconds) == (False, 60)


def test_the_postgresql_pool_of_each_process_is_configurable() -> None:
    default = load_settings({})
    small = load_settings({"DATABASE_POOL_SIZE": "8", "DATABASE_MAX_OVERFLOW": "0"})

    assert (default.database_pool_size, default.database_max_overflow) == (20, 10)
    assert (small.database_pool_size, small.database_max_overflow) == (8, 0)
    for env in ({"DATABASE_POOL_SIZE": "0"}, {"DATABASE_MAX_OVERFLOW": "-1"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_settings(env)


async def test_the_engine_takes_the_configured_pool() -> None:
    engine = make_engine("postgresql+asyncpg://u@127.0.0.1:1/x", pool_size=8, max_overflow=0)
    try:
        pool: Any = engine.sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (8, 0)
    finally:
        await engine.dispose()
