"""Every request: an id in its logs and response, and its latency in the histogram.

The id is the caller's ``X-Request-ID`` when well formed (a proxy's or a client's, so
one id follows a request across services), else a fresh one; it is bound into the
structured-log context for the request (``user_id`` is added once a key authenticated,
``auth.principal_of``) and returned in the response's ``X-Request-ID``. Latency is
labelled with the route's template (``/api/stripe/payments/{payment_id}``), never the
raw path, so the label set stays bounded.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Protocol

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
STATE_KEY = "request_id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestsServed(Protocol):
    def request_served(self, route: str, method: str, status: int, seconds: float) -> None: ...


def request_id_from(header: str | None) -> str:
    if header is not None and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def observe_requests(metrics: RequestsServed | None) -> object:
    """The outermost middleware: ``metrics`` None leaves latency unmeasured."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def observed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request_id = request_id_from(_header(scope, b"x-request-id"))
            scope.setdefault("state", {})[STATE_KEY] = request_id
            outer = structlog.contextvars.get_contextvars()
            structlog.contextvars.bind_contextvars(request_id=request_id)
            status = 500
            started = time.perf_counter()

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, sending)
            except Exception as exc:
                status = getattr(exc, "status_code", 500)
                raise
            finally:
                if metrics is not None:
                    route = scope.get("path_template") or "unmatched"
                    elapsed = time.perf_counter() - started
                    metrics.request_served(route, scope["method"], status, elapsed)
                structlog.contextvars.clear_contextvars()
                structlog.contextvars.bind_contextvars(**outer)

        return observed

    return middleware


async def echo_request_id(message: Message, scope: Scope) -> None:
    """``before_send``: also reaches answers made outside the middleware (a 429).

    Async: Litestar runs a synchronous hook in a worker thread, twice per response.
    """
    request_id = scope.get("state", {}).get(STATE_KEY)
    if message["type"] == "http.response.start" and request_id is not None:
        MutableScopeHeaders.from_message(message)[HEADER] = request_id
