"""The composition root: the only module that knows dependency-injector.

It picks the gateway adapter from configuration (stripe or sandbox), builds the
database, unit of work and clock that every entrypoint (HTTP, CLI, batch) shares, and
binds each use case to them and to its settings once (``UseCases``): an entrypoint
gets a use case ready to call with the request's own arguments only.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import SystemClock
from adapters.metrics.prometheus import PrometheusMetrics
from adapters.outbound.httpx_sender import HttpxSender
from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.sql_store import SqlSandboxStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import read_uow_factory, uow_factory
from adapters.stripe.client import StripeGateway
from adapters.stripe.events import TRANSLATED_TYPES
from application import queries
from application.accounts import users
from application.admin import operations, summary
from application.admin import payments as payment_admin
from application.admin import users as user_admin
from application.admin.adjust_credits import adjust_credits
from application.alerts import settings as alert_settings
from application.auto_top_up import cards
from application.auto_top_up import settings as auto_top_up_settings
from application.auto_top_up.ports import TopUpTerms
from application.auto_top_up.run import run_auto_top_ups
from application.bootstrap import follow_ups
from application.credits.expire_credits import expire_credits
from application.ids import hash_api_key
from application.outbound.admin import list_outbound_events, redeliver_outbound_event
from application.outbound.deliver_events import deliver_events
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.create_checkout_session import CheckoutSettings, create_checkout_session
from application.purchases.create_payment_intent import create_payment_intent
from application.purchases.sync_payment import sync_checkout_session, sync_payment_intent
from application.reconciliation.expire_stale_sessions import expire_stale_sessions
from application.reconciliation.reconcile import reconcile
from application.refunds.refund_payment import refund_payment
from application.rewards import coupon_admin, coupons, referrals, trials
from application.spending import balance
from application.spending import capture_hold as capture
from application.spending import debit as debits
from application.spending import debit_batch as batches
from application.spending import expire_holds as hold_expiry
from application.spending import place_hold as placing
from application.spending import release_hold as releasing
from application.subscriptions.cancel_subscription import cancel_subscription
from application.subscriptions.change_subscription import change_subscription
from application.subscriptions.create_subscription_checkout import create_subscription_checkout
from application.subscriptions.get_subscription import get_subscription
from application.subscriptions.resume_subscription import resume_subscription
from application.subscriptions.settings import SubscriptionSettings
from application.webhooks.receive_webhook import receive_webhook
from domain.redirects import RedirectPolicy
from domain.referral import ReferralTerms
from entrypoints.http.webhook import InProcessDelivery
from entrypoints.settings import ConfigError, Settings


def _sandbox(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    engine: AsyncEngine,
    metrics: PrometheusMetrics,
) -> SandboxGateway:
    delivery = InProcessDelivery(uow_factory, clock, metrics.webhook_handled)
    gateway = SandboxGateway(
        webhook_secrets=settings.stripe_webhook_secrets,
        public_url=settings.public_url,
        now=clock.now,
        deliver=delivery,
        store=SqlSandboxStore(engine),  # one sandbox for every process on the database
    )
    delivery.gateway = gateway
    return gateway


def _stripe(settings: Settings) -> StripeGateway:
    assert settings.stripe_secret_key is not None
    return StripeGateway(
        secret_key=settings.stripe_secret_key,
        webhook_secrets=settings.stripe_webhook_secrets,
        api_base=settings.stripe_api_base,
    )


def _outbound_sender(settings: Settings) -> HttpxSender:
    """Asked for only where delivery runs, which needs the URL."""
    outbound = settings.outbound
    if outbound.url is None:
        raise ConfigError("OUTBOUND_WEBHOOK_URL is not set: there is nowhere to deliver events")
    return HttpxSender(outbound.url, timeout=outbound.timeout_seconds)


def _uow_factory(
    engine: AsyncEngine, metrics: PrometheusMetrics, settings: Settings
) -> UnitOfWorkFactory:
    """One message bus of same-transaction follow-ups for every unit of work, pricing
    top-ups with the configured packages; what committed is counted."""
    bus = follow_ups(settings.pricing).after_commit(metrics.events_committed)
    return uow_factory(engine, bus)


def _checkout_lifetime(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.checkout_expires_minutes)


def _checkout_settings(settings: Settings) -> CheckoutSettings:
    redirects = RedirectPolicy(settings.frontend_url)
    return CheckoutSettings(settings.pricing, redirects, _checkout_lifetime(settings))


def _subscription_settings(settings: Settings) -> SubscriptionSettings:
    redirects = RedirectPolicy(settings.frontend_url)
    return SubscriptionSettings(settings.plans, redirects, _checkout_lifetime(settings))


def _admin_key_hashes(settings: Settings) -> tuple[str, ...]:
    return tuple(hash_api_key(key) for key in settings.admin_api_keys)


def _service_key_hashes(settings: Settings) -> tuple[str, ...]:
    return tuple(hash_api_key(key) for key in settings.service_api_keys)


def _top_up_terms(checkout: CheckoutSettings) -> TopUpTerms:
    return TopUpTerms(checkout.pricing, checkout.expires_in, checkout.redirects)


def _bound(use_case: Callable[..., Any], **collaborators: Any) -> providers.Provider[Any]:
    """``use_case`` with its keyword collaborators filled in, looked up on each call."""
    return providers.Factory(functools.partial, use_case, **collaborators)


class UseCases(containers.DeclarativeContainer):
    """Every use case an entrypoint calls, by its own name, bound once."""

    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Dependency()
    uow_factory = providers.Dependency()
    read_uow_factory = providers.Dependency()  # reads that never write: no BEGIN/ROLLBACK
    gateway = providers.Dependency()
    outbound_sender = providers.Dependency()
    metrics = providers.Dependency(instance_of=PrometheusMetrics)
    checkout_settings = providers.Dependency(instance_of=CheckoutSettings)
    checkout_lifetime = providers.Dependency(instance_of=timedelta)
    admin_key_hashes = providers.Dependency(instance_of=tuple)
    service_key_hashes = providers.Dependency(instance_of=tuple)
    referral_terms = providers.Dependency(instance_of=ReferralTerms)
    subscription_settings = providers.Dependency(instance_of=SubscriptionSettings)

    credit_packages = settings.provided.pricing.packages
    subscription_plans = settings.provided.plans.plans

    authenticate = _bound(
        users.authenticate,
        admin_key_hashes=admin_key_hashes,
        service_key_hashes=service_key_hashes,
        uow_factory=read_uow_factory,
    )
    create_user = _bound(
        users.create_user,
        referral_terms=referral_terms,
        trial_terms=settings.provided.trial_terms,
        uow_factory=uow_factory,
        clock=clock,
    )
    create_api_key = _bound(
        users.create_api_key,
        uow_factory=uow_factory,
        clock=clock,
        max_keys=settings.provided.max_api_keys_per_user,
    )
    list_api_keys = _bound(users.list_api_keys, uow_factory=uow_factory)
    revoke_api_key = _bound(users.revoke_api_key, uow_factory=uow_factory, clock=clock)
    get_trial = _bound(trials.get_trial, uow_factory=uow_factory)
    # A user's own balance and runway: an account not opened yet reads as empty.
    get_own_balance = _bound(balance.get_own_balance, uow_factory=read_uow_factory, clock=clock)
    list_entries = _bound(queries.list_entries, uow_factory=read_uow_factory)
    update_alert_settings = _bound(
        alert_settings.update_alert_settings, uow_factory=uow_factory, clock=clock
    )
    verify_ledger = _bound(queries.verify_ledger, uow_factory=uow_factory)

    list_payments = _bound(queries.list_payments, uow_factory=uow_factory)
    get_payment = _bound(queries.get_payment, uow_factory=uow_factory)
    create_checkout_session = _bound(
        create_checkout_session,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        settings=checkout_settings,
    )
    create_payment_intent = _bound(
        create_payment_intent,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        pricing=settings.provided.pricing,
        expires_in=checkout_lifetime,
    )
    sync_checkout_session = _bound(
        sync_checkout_session, uow_factory=uow_factory, gateway=gateway, clock=clock
    )
    sync_payment_intent = _bound(
        sync_payment_intent, uow_factory=uow_factory, gateway=gateway, clock=clock
    )
    refund_payment = _bound(refund_payment, uow_factory=uow_factory, gateway=gateway, clock=clock)
    receive_webhook = _bound(
        receive_webhook,
        gateway=gateway,
        uow_factory=uow_factory,
        clock=clock,
        observe=metrics.provided.webhook_handled,
    )

    apply_referral = _bound(
        referrals.apply_referral, terms=referral_terms, uow_factory=uow_factory, clock=clock
    )
    referral_stats = _bound(referrals.referral_stats, terms=referral_terms, uow_factory=uow_factory)
    invite_url = providers.Factory(
        functools.partial, referrals.invite_url, settings.provided.frontend_url
    )
    redeem_coupon = _bound(coupons.redeem_coupon, uow_factory=uow_factory, clock=clock)
    coupon_history = _bound(coupons.coupon_history, uow_factory=uow_factory)
    create_coupon = _bound(coupon_admin.create_coupon, uow_factory=uow_factory, clock=clock)
    update_coupon = _bound(coupon_admin.update_coupon, uow_factory=uow_factory, clock=clock)
    list_coupons = _bound(coupon_admin.list_coupons, uow_factory=uow_factory)
    get_coupon = _bound(coupon_admin.get_coupon, uow_factory=uow_factory)

    create_subscription_checkout = _bound(
        create_subscription_checkout,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        settings=subscription_settings,
    )
    get_subscription = _bound(get_subscription, uow_factory=uow_factory)
    change_subscription = _bound(
        change_subscription,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        settings=subscription_settings,
    )
    cancel_subscription = _bound(
        cancel_subscription, uow_factory=uow_factory, gateway=gateway, clock=clock
    )
    resume_subscription = _bound(
        resume_subscription, uow_factory=uow_factory, gateway=gateway, clock=clock
    )

    expire_stale_sessions = _bound(
        expire_stale_sessions, uow_factory=uow_factory, gateway=gateway, clock=clock
    )
    reconcile = _bound(reconcile, uow_factory=uow_factory, gateway=gateway, clock=clock)
    expire_credits = _bound(expire_credits, uow_factory=uow_factory, clock=clock)

    debit = _bound(debits.debit, uow_factory=uow_factory, clock=clock)
    debit_batch = _bound(batches.debit_batch, uow_factory=uow_factory, clock=clock)
    get_balance = _bound(balance.get_balance, uow_factory=uow_factory, clock=clock)
    place_hold = _bound(placing.place_hold, uow_factory=uow_factory, clock=clock)
    capture_hold = _bound(capture.capture_hold, uow_factory=uow_factory, clock=clock)
    release_hold = _bound(releasing.release_hold, uow_factory=uow_factory, clock=clock)
    expire_holds = _bound(hold_expiry.expire_holds, uow_factory=uow_factory, clock=clock)

    deliver_events = _bound(
        deliver_events,
        uow_factory=uow_factory,
        sender=outbound_sender,
        secrets=settings.provided.outbound.secrets,
        clock=clock,
        jitter=providers.Object(random.random),
    )
    run_auto_top_ups = _bound(
        run_auto_top_ups,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        terms=providers.Singleton(_top_up_terms, checkout_settings),
    )
    set_auto_top_up = _bound(
        auto_top_up_settings.set_auto_top_up,
        uow_factory=uow_factory,
        clock=clock,
        pricing=settings.provided.pricing,
    )
    start_card_setup = _bound(
        cards.start_card_setup,
        uow_factory=uow_factory,
        gateway=gateway,
        clock=clock,
        return_url=settings.provided.frontend_url,
    )
    saved_card = _bound(cards.saved_card, uow_factory=uow_factory, gateway=gateway)
    remove_saved_card = _bound(cards.remove_saved_card, uow_factory=uow_factory, gateway=gateway)
    get_auto_top_up = _bound(
        auto_top_up_settings.get_auto_top_up, uow_factory=uow_factory, clock=clock
    )
    list_outbound_events = _bound(list_outbound_events, uow_factory=uow_factory)
    redeliver_outbound_event = _bound(
        redeliver_outbound_event, uow_factory=uow_factory, clock=clock
    )

    adjust_credits = _bound(
        adjust_credits,
        limits=settings.provided.admin_limits,
        uow_factory=uow_factory,
        clock=clock,
    )
    search_users = _bound(user_admin.search_users, uow_factory=uow_factory)
    view_user = _bound(user_admin.view_user, uow_factory=uow_factory)
    user_ledger = _bound(user_admin.user_ledger, uow_factory=uow_factory)
    admin_payments = _bound(payment_admin.list_payments, uow_factory=uow_factory)
    export_payments = _bound(payment_admin.export_payments, uow_factory=uow_factory)
    admin_summary = _bound(summary.summarise, uow_factory=uow_factory, clock=clock)
    admin_timeseries = _bound(summary.timeseries, uow_factory=uow_factory, clock=clock)
    admin_failures = _bound(operations.failures, uow_factory=uow_factory, clock=clock)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(PrometheusMetrics, TRANSLATED_TYPES)
    engine = providers.Singleton(
        make_engine,
        settings.provided.database_url,
        pool_size=settings.provided.database_pool_size,
        max_overflow=settings.provided.database_max_overflow,
    )
    uow_factory = providers.Singleton(_uow_factory, engine, metrics, settings)
    read_uow_factory = providers.Singleton(read_uow_factory, engine)
    gateway = providers.Selector(
        settings.provided.payment_gateway,
        sandbox=providers.Singleton(_sandbox, settings, uow_factory, clock, engine, metrics),
        stripe=providers.Singleton(_stripe, settings),
    )
    outbound_sender = providers.Singleton(_outbound_sender, settings)
    use_cases = providers.Container(
        UseCases,
        settings=settings,
        clock=clock,
        uow_factory=uow_factory,
        read_uow_factory=read_uow_factory,
        gateway=gateway,
        outbound_sender=outbound_sender,
        metrics=metrics,
        checkout_settings=providers.Singleton(_checkout_settings, settings),
        checkout_lifetime=providers.Singleton(_checkout_lifetime, settings),
        admin_key_hashes=providers.Singleton(_admin_key_hashes, settings),
        service_key_hashes=providers.Singleton(_service_key_hashes, settings),
        referral_terms=settings.provided.referral_terms,
        subscription_settings=providers.Singleton(_subscription_settings, settings),
    )


def use_case_providers(container: Container) -> dict[str, Callable[[], Any]]:
    """What ``UseCases`` offers by name: its use cases, not their inputs."""
    offered = container.use_cases.providers.items()
    return {
        name: provider
        for name, provider in offered
        if not isinstance(provider, providers.Dependency)
    }


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
