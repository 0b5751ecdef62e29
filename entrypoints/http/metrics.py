"""GET /metrics: Prometheus' text format, for a scraper, outside the API's schema.

It is an operator's endpoint, not part of the API contract, so it is left out of the
OpenAPI document and of rate limiting. Off with ``METRICS_ENABLED=false``; with
``METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>`` (the
counts are business numbers).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from adapters.metrics.prometheus import PrometheusMetrics
from adapters.metrics.scrape import exposition
from application.ports import Clock
from entrypoints.container import Container
from entrypoints.http.auth import bearer_token
from entrypoints.http.errors import error_response

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_route(container: Container) -> HTTPRouteHandler:
    settings = container.settings()
    metrics: PrometheusMetrics = container.metrics()
    clock: Clock = container.clock()
    engine = container.engine()
    token = settings.metrics_token

    @get(PATH, include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any]) -> Response[Any]:
        if token is not None and not _matches(bearer_token(request), token):
            return error_response(
                401,
                "unauthenticated",
                "a valid metrics token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await exposition(metrics, engine, clock.now())
        return Response(body, media_type=CONTENT_TYPE)

    return scrape


def _matches(sent: str | None, token: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), token.encode())
