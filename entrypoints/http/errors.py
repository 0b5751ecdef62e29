"""Every failure becomes ``{"error": {"code", "message"}}`` here, and only here.

``error_response_for`` is the one mapping from an exception to its HTTP answer: the
app's exception handler uses it, and so does the sandbox's in-process webhook
delivery, which must answer exactly as ``POST /api/stripe/webhook`` would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.webhooks.gateway import InvalidSignature, MalformedEvent
from application.webhooks.handling import EventNotReady
from domain.errors import DomainError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> Response[Any]:
    """``details``: fields beside the code that a client acts on (``available``)."""
    return Response(
        {"error": {"code": code, "message": message, **(details or {})}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _domain(exc: DomainError) -> Response[Any]:
    details = getattr(exc, "details", None)
    return error_response(exc.status, exc.code, exc.message, details=details)


def _signature(exc: Exception) -> Response[Any]:
    code = getattr(exc, "code", "invalid_webhook")
    return error_response(400, code, str(exc))


def _not_ready(exc: EventNotReady) -> Response[Any]:
    return error_response(503, "event_not_ready", str(exc))


def _validation(exc: ValidationException) -> Response[Any]:
    if _missing_body(exc):
        return error_response(400, "malformed_json", "request body is empty; send a JSON object")
    detail = exc.detail or "invalid request"
    extra = exc.extra if isinstance(exc.extra, list) else []
    messages = [str(e.get("message", "")) for e in extra if isinstance(e, dict)]
    message = "; ".join(m for m in messages if m) or detail
    code = (
        "malformed_json"
        if "decode" in detail.lower() or "json" in message.lower()
        else ("validation_error")
    )
    return error_response(400, code, message)


def _missing_body(exc: ValidationException) -> bool:
    """Litestar reports an absent body as a KeyError on its parameter named 'data'."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    return any(
        isinstance(e, dict) and e.get("key") == "data" and e.get("message") == "'data'"
        for e in extra
    )


def _http(exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "server_error" if status >= 500 else "client_error")
    # Litestar wraps every body decoding error (msgspec's "malformed", "truncated", ...).
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        code = "malformed_json"
    # Kept: a 429's Retry-After and RateLimit-*, a 405's Allow.
    return error_response(status, code, exc.detail, dict(exc.headers or {}))


def _database(exc: Exception) -> Response[Any]:
    if _refused_value(exc):
        log.warning("database_refused_value error=%s", type(exc).__name__)
        return error_response(400, "validation_error", "a value was refused by the database")
    log.error("database_unavailable error=%s", type(exc).__name__)
    return error_response(503, "database_unavailable", "the database is unavailable; retry")


def _refused_value(exc: Exception) -> bool:
    """SQLSTATE class 22 (data exception: a NUL in text, a number out of range) is the
    value's fault, not an outage: retrying it would fail the same way."""
    if isinstance(exc, DataError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


_MAPPING: dict[type[Exception], Callable[[Any], Response[Any]]] = {
    DomainError: _domain,
    InvalidSignature: _signature,
    MalformedEvent: _signature,
    EventNotReady: _not_ready,
    ValidationException: _validation,
    HTTPException: _http,
    OperationalError: _database,
    DBAPIError: _database,
    PoolTimeout: _database,
    OSError: _database,
}


def error_response_for(exc: Exception, path: str) -> Response[Any]:
    """The answer to ``exc`` raised while serving ``path``: its most specific mapping,
    else a logged 500."""
    for kind in type(exc).__mro__:
        mapped = _MAPPING.get(kind)
        if mapped is not None:
            return mapped(exc)
    log.exception("unhandled_error path=%s", path, exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def _handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return error_response_for(exc, request.url.path)


EXCEPTION_HANDLERS: dict[Any, Any] = {Exception: _handle}
