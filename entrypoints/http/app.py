"""The Litestar application: routes, dependencies, error mapping, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect
from sqlalchemy import text

from adapters.sandbox.gateway import SandboxGateway
from entrypoints.container import Container
from entrypoints.http.admin import AdminController
from entrypoints.http.admin_page import admin_page_handlers
from entrypoints.http.admin_page.access import PUBLIC_URL, SESSIONS
from entrypoints.http.admin_page.sessions import AdminSessions
from entrypoints.http.coupons import AdminCouponsController, CouponsController
from entrypoints.http.deps import app_state, dependencies
from entrypoints.http.docs_assets import docs_asset
from entrypoints.http.errors import EXCEPTION_HANDLERS, error_response
from entrypoints.http.limits import limiter_stores, rate_limit
from entrypoints.http.metrics import metrics_route
from entrypoints.http.observability import echo_request_id, observe_requests
from entrypoints.http.openapi import document, errors, openapi_config
from entrypoints.http.outbound import OutboundEventsController
from entrypoints.http.outbound_worker import BackgroundDelivery
from entrypoints.http.params import EDGE_GUARDS
from entrypoints.http.payment_methods import PaymentMethodsController
from entrypoints.http.payments import StripeController
from entrypoints.http.referrals import ReferralsController
from entrypoints.http.sandbox import SandboxController
from entrypoints.http.sandbox_subscriptions import SandboxSubscriptionsController
from entrypoints.http.spending import SpendingController
from entrypoints.http.subscriptions import SubscriptionsController
from entrypoints.http.top_up_worker import background_top_ups
from entrypoints.http.users import BalanceController, UsersController
from entrypoints.http.webhook import stripe_webhook


def create_app(container: Container) -> Litestar:
    settings = container.settings()
    metrics = container.metrics()

    @get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", tags=["health"], responses=errors(503))
    async def ready() -> Response[Any]:
        try:
            async with container.engine().connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return error_response(503, "database_unavailable", "the database is unavailable")
        return Response({"status": "ready"}, media_type=MediaType.JSON)

    @get("/docs", include_in_schema=False)
    async def docs() -> Redirect:
        return Redirect("/schema/swagger")

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        outbound = settings.outbound
        delivery = None
        if outbound.enabled and outbound.in_serve:
            delivery = BackgroundDelivery(
                container.use_cases.deliver_events(),
                outbound.interval_seconds,
                observe=metrics.deliveries_settled,
            )
            delivery.start()
        top_ups = None
        if settings.auto_top_up.in_serve:
            top_ups = BackgroundDelivery(
                background_top_ups(container.use_cases.run_auto_top_ups()),
                settings.auto_top_up.interval_seconds,
            )
            top_ups.start()
        try:
            yield
        finally:
            if top_ups is not None:
                await top_ups.stop()
            if delivery is not None:
                await delivery.stop()
            if outbound.enabled:
                await container.outbound_sender().aclose()
            close = getattr(container.gateway(), "aclose", None)
            if close is not None:
                await close()
            await container.engine().dispose()

    handlers: list[Any] = [
        health,
        ready,
        docs,
        docs_asset,
        stripe_webhook,
        StripeController,
        UsersController,
        BalanceController,
        ReferralsController,
        CouponsController,
        AdminCouponsController,
        AdminController,
        *admin_page_handlers(),
        OutboundEventsController,
        SpendingController,
        SubscriptionsController,
        PaymentMethodsController,
    ]
    if settings.metrics_enabled:
        handlers.append(metrics_route(container))
    deps = dependencies(container)
    if settings.payment_gateway == "sandbox":
        gateway = container.gateway()
        assert isinstance(gateway, SandboxGateway)
        handlers.extend([SandboxController, SandboxSubscriptionsController])
        deps["sandbox"] = Provide(lambda: gateway, sync_to_thread=False, use_cache=True)
    app = Litestar(
        route_handlers=handlers,
        dependencies=deps,
        state=State(
            {**app_state(container), SESSIONS: AdminSessions(), PUBLIC_URL: settings.public_url}
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        guards=EDGE_GUARDS,
        request_max_body_size=settings.max_body_bytes,
        middleware=[
            observe_requests(metrics if settings.metrics_enabled else None),
            *rate_limit(settings.rate_limit_per_minute, settings.trusted_proxies),
        ],
        before_send=[echo_request_id],
        stores=limiter_stores(),
        lifespan=[lifespan],
        openapi_config=openapi_config(),
        debug=False,
        # Keep entrypoints.logs' JSON configuration: Litestar's default would replace the
        # root handler with its own plain-text queue handler.
        logging_config=None,
    )
    document(app)
    return app
