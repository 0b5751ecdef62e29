"""Configuration from the environment (and ``.env``), checked once at start-up.

A missing or invalid setting stops start-up with one line naming it. Credit
packages and extra currencies come from the TOML file named by CREDITLINE_CONFIG.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from adapters.sqlalchemy.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE
from domain.admin import AdjustmentLimits
from domain.credits import CreditPackage, CreditRate, PricingPolicy, package_discount
from domain.errors import DomainError
from domain.money import Money, normalise_currency
from domain.plans import PlanCatalogue
from domain.redirects import origin_of
from domain.referral import ReferralTerms
from domain.trial import TrialTerms
from entrypoints.plan_settings import PlanConfigError, load_plans

DEFAULT_PACKAGES = (
    ("credits_1000", "Starter", 1000, 1000, False),
    ("credits_5500", "Growth", 5500, 5000, True),
    ("credits_12000", "Scale", 12000, 10000, False),
)


MIN_SECRET_LENGTH = 16


class ConfigError(Exception):
    """One invalid setting; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./creditline.db"
    database_pool_size: int = PG_POOL_SIZE  # per process, PostgreSQL only
    database_max_overflow: int = PG_MAX_OVERFLOW
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    app_env: str = "development"
    payment_gateway: str = "sandbox"
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    stripe_api_base: str | None = None
    frontend_url: str = "http://127.0.0.1:8000"
    admin_api_keys: tuple[str, ...] = field(default=(), repr=False)
    # Keys of services (a product's API gateway) that spend credits for any user.
    service_api_keys: tuple[str, ...] = field(default=(), repr=False)
    checkout_expires_minutes: int = 60
    # A PaymentIntent never expires on its own; `batch expire-sessions` cancels it then.
    payment_intent_ttl_hours: int = 24
    max_body_bytes: int = 1024 * 1024
    rate_limit_per_minute: int = 600
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    max_api_keys_per_user: int = 20
    pricing: PricingPolicy = field(
        default_factory=lambda: PricingPolicy({"usd": CreditRate("usd", 1)}, 50, 1_000_000)
    )
    referral_terms: ReferralTerms = field(default_factory=ReferralTerms)
    trial_terms: TrialTerms = field(default_factory=TrialTerms)
    admin_limits: AdjustmentLimits = field(default_factory=AdjustmentLimits)
    plans: PlanCatalogue = field(default_factory=lambda: load_plans({}, frozenset({"usd"})))
    outbound: OutboundSettings = field(default_factory=lambda: OutboundSettings())
    auto_top_up: AutoTopUpWorker = field(default_factory=lambda: AutoTopUpWorker())
    # GET /metrics (Prometheus); with a token, scrapes must send it as a bearer key.
    metrics_enabled: bool = True
    metrics_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OutboundSettings:
    """Where the outbox is delivered; nothing is delivered without a URL."""

    url: str | None = None
    # Every secret signs each delivery (several during a rotation).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # Whether ``serve`` delivers in its background (else: ``batch deliver-events``).
    in_serve: bool = True
    interval_seconds: int = 5
    timeout_seconds: int = 10

    @property
    def enabled(self) -> bool:
        return self.url is not None


@dataclass(frozen=True)
class AutoTopUpWorker:
    """Where requested top-ups are charged: in ``serve``'s background (every
    ``interval_seconds``), or only by ``batch auto-top-up``."""

    in_serve: bool = True
    interval_seconds: int = 15


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got '{raw}'") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _networks(env: Mapping[str, str], name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(item, strict=False) for item in _list(env, name))
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated IP addresses or CIDRs: {exc}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in _BOOLEANS:
        raise ConfigError(f"{name} must be true or false, got '{env[name]}'")
    return _BOOLEANS[raw]


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    try:
        origin_of(value)
    except DomainError:
        raise ConfigError(f"{name} must be an absolute http(s) URL, got '{value}'") from None
    return value.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings; raises ConfigError with one line naming the bad setting."""
    env = os.environ if env is None else env
    secret_key = env.get("STRIPE_SECRET_KEY") or None
    gateway = (env.get("PAYMENT_GATEWAY") or ("stripe" if secret_key else "sandbox")).lower()
    app_env = (env.get("APP_ENV") or "development").lower()
    if gateway not in ("stripe", "sandbox"):
        raise ConfigError(f"PAYMENT_GATEWAY must be 'stripe' or 'sandbox', got '{gateway}'")
    if gateway == "sandbox" and app_env == "production":
        raise ConfigError("PAYMENT_GATEWAY=sandbox is refused when APP_ENV=production")
    webhook_secrets = _list(env, "STRIPE_WEBHOOK_SECRET")
    if gateway == "stripe":
        if not secret_key:
            raise ConfigError("STRIPE_SECRET_KEY is required with PAYMENT_GATEWAY=stripe")
        if not webhook_secrets:
            raise ConfigError("STRIPE_WEBHOOK_SECRET is required with PAYMENT_GATEWAY=stripe")
    elif not webhook_secrets:
        # The sandbox signs its own events; a per-process secret keeps them verifiable.
        webhook_secrets = (f"whsec_sandbox_{secrets.token_hex(16)}",)
    port = _int(env, "PORT", 8000, 1, 65535)
    host = env.get("HOST") or "127.0.0.1"
    public_url = _url(env, "PUBLIC_URL", f"http://{host}:{port}")
    min_amount = _int(env, "CHECKOUT_MIN_AMOUNT", 50, 1, 99_999_999)
    max_amount = _int(env, "CHECKOUT_MAX_AMOUNT", 1_000_000, 1, 99_999_999)
    if min_amount > max_amount:
        raise ConfigError("CHECKOUT_MIN_AMOUNT must not exceed CHECKOUT_MAX_AMOUNT")
    pricing = _pricing(env.get("CREDITLINE_CONFIG"), min_amount, max_amount)
    return Settings(
        database_url=env.get("DATABASE_URL") or Settings.database_url,
        database_pool_size=_int(env, "DATABASE_POOL_SIZE", PG_POOL_SIZE, 1, 1000),
        database_max_overflow=_int(env, "DATABASE_MAX_OVERFLOW", PG_MAX_OVERFLOW, 0, 1000),
        host=host,
        port=port,
        public_url=public_url,
        app_env=app_env,
        payment_gateway=gateway,
        stripe_secret_key=secret_key,
        stripe_webhook_secrets=webhook_secrets,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        frontend_url=_url(env, "FRONTEND_URL", public_url),
        admin_api_keys=_list(env, "ADMIN_API_KEYS"),
        service_api_keys=_list(env, "SERVICE_API_KEYS"),
        checkout_expires_minutes=_int(env, "CHECKOUT_EXPIRES_MINUTES", 60, 30, 1440),
        rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 600, 0, 1_000_000),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        max_api_keys_per_user=_int(env, "MAX_API_KEYS_PER_USER", 20, 1, 1000),
        payment_intent_ttl_hours=_int(env, "PAYMENT_INTENT_TTL_HOURS", 24, 1, 720),
        pricing=pricing,
        plans=_plans(env.get("CREDITLINE_CONFIG"), pricing),
        referral_terms=_referral_terms(env),
        trial_terms=_trial_terms(env),
        admin_limits=AdjustmentLimits(
            max_grant=_int(env, "ADMIN_MAX_GRANT", 100_000, 1, 1_000_000_000),
            daily_grant_limit=_int(env, "ADMIN_DAILY_GRANT_LIMIT", 1_000_000, 1, 1_000_000_000),
        ),
        outbound=_outbound(env),
        auto_top_up=AutoTopUpWorker(
            in_serve=_bool(env, "AUTO_TOP_UP_IN_SERVE", True),
            interval_seconds=_int(env, "AUTO_TOP_UP_INTERVAL", 15, 1, 3600),
        ),
        metrics_enabled=_bool(env, "METRICS_ENABLED", True),
        metrics_token=env.get("METRICS_TOKEN") or None,
    )


def _config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"CREDITLINE_CONFIG '{path}' cannot be read: {exc}") from None


def _plans(path: str | None, pricing: PricingPolicy) -> PlanCatalogue:
    """Plans (``[[plans]]``) share the packages' file and currencies."""
    try:
        return load_plans(_config(path), frozenset(pricing.rates))
    except PlanConfigError as exc:
        raise ConfigError(str(exc)) from None


def _pricing(path: str | None, min_amount: int, max_amount: int) -> PricingPolicy:
    data = _config(path)
    try:
        rates = {"usd": CreditRate("usd", 1)}
        for code, spec in (data.get("currencies") or {}).items():
            currency = normalise_currency(code)
            rates[currency] = CreditRate(
                currency, int(spec["credits_numerator"]), int(spec.get("credits_denominator", 1))
            )
        packages = (
            tuple(_package(p) for p in data["packages"])
            if "packages" in data
            else tuple(
                _package(
                    {
                        "id": i,
                        "name": n,
                        "credits": c,
                        "amount": a,
                        "currency": "usd",
                        "popular": pop,
                    }
                )
                for i, n, c, a, pop in DEFAULT_PACKAGES
            )
        )
    except (KeyError, TypeError, ValueError, DomainError) as exc:
        raise ConfigError(f"CREDITLINE_CONFIG is invalid: {exc}") from None
    for package in packages:
        if package.price.currency not in rates:
            raise ConfigError(f"CREDITLINE_CONFIG package '{package.id}' uses an unsold currency")
    return PricingPolicy(rates, min_amount, max_amount, packages)


def _package(spec: Mapping[str, Any]) -> CreditPackage:
    """A configured discount overrides the one the price implies."""
    price = Money.of(int(spec["amount"]), str(spec["currency"]))
    credits = int(spec["credits"])
    discount = spec.get("discount_percentage")
    return CreditPackage(
        id=str(spec["id"]),
        name=str(spec["name"]),
        credits=credits,
        price=price,
        discount_percentage=package_discount(credits, price) if discount is None else int(discount),
        popular=bool(spec.get("popular", False)),
    )


def _referral_terms(env: Mapping[str, str]) -> ReferralTerms:
    """REFERRAL_MIN_PURCHASE is in US cents; other currencies compare by their credits."""
    return ReferralTerms(
        min_purchase=_int(env, "REFERRAL_MIN_PURCHASE", 1000, 1, 99_999_999),
        bonus_credits=_int(env, "REFERRAL_BONUS_CREDITS", 1000, 1, 10_000_000),
        max_uses=_int(env, "REFERRAL_MAX_USES", 10, 1, 1_000_000),
    )


def _outbound(env: Mapping[str, str]) -> OutboundSettings:
    """A URL needs a secret: the product must be able to tell our deliveries from
    anyone's. Secrets shorter than 16 characters are refused as guessable."""
    url = (env.get("OUTBOUND_WEBHOOK_URL") or "").strip() or None
    if url is not None:
        _url(env, "OUTBOUND_WEBHOOK_URL", url)  # checked, kept as given (a trailing slash too)
    secrets = _list(env, "OUTBOUND_WEBHOOK_SECRET")
    if url is not None and not secrets:
        raise ConfigError("OUTBOUND_WEBHOOK_SECRET is required with OUTBOUND_WEBHOOK_URL")
    if any(len(secret) < MIN_SECRET_LENGTH for secret in secrets):
        raise ConfigError(
            f"OUTBOUND_WEBHOOK_SECRET: each secret needs at least {MIN_SECRET_LENGTH} characters"
        )
    return OutboundSettings(
        url=url,
        secrets=secrets,
        in_serve=_bool(env, "OUTBOUND_DELIVERY_IN_SERVE", True),
        interval_seconds=_int(env, "OUTBOUND_DELIVERY_INTERVAL", 5, 1, 3600),
        timeout_seconds=_int(env, "OUTBOUND_WEBHOOK_TIMEOUT", 10, 1, 60),
    )


def _trial_terms(env: Mapping[str, str]) -> TrialTerms:
    return TrialTerms(
        credits=_int(env, "TRIAL_CREDITS", 0, 0, 10_000_000),
        days=_int(env, "TRIAL_DAYS", 14, 1, 3650),
    )
