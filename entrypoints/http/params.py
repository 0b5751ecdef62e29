"""What every controller reads: strict bodies, shared parameters, bound use cases.

The edge guards run on every route before Litestar reads a parameter or a body:
NUL bytes are refused (no text of this API may hold one, and PostgreSQL refuses them),
the caller is authenticated where the route needs a key, and only then is a body
measured, so a hostile body costs nothing to a caller without a key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import HeaderParameter, QueryParameter
from litestar.types import Guard

from adapters.json_nesting import MAX_DEPTH, too_deep_or_not_json
from application.queries import MAX_PAGE
from domain.errors import ValidationFailed
from entrypoints.http.auth import authenticate_first

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        schema_extra={"minLength": 1, "maxLength": 255},
    ),
]
"""Its length is documented here and enforced by the use case."""
Limit = Annotated[
    int | None,
    QueryParameter(name="limit", required=False, schema_extra={"minimum": 1, "maximum": MAX_PAGE}),
]
"""Bounds are documented here and enforced by the use case (code ``invalid_limit``)."""
Cursor = Annotated[
    str | None,
    QueryParameter(name="cursor", required=False, max_length=200, schema_extra={"minLength": 1}),
]
"""Opaque, from a previous page's ``next_cursor``; an empty one is refused as
``invalid_cursor`` by the adapter."""

R = TypeVar("R")
UseCase = Callable[..., Awaitable[R]]
"""A use case the container has bound to its collaborators and settings."""


class RequestBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Every request body refuses unknown fields: a client cannot slip ``credits``,
    ``user_id`` or ``metadata`` into a purchase (docs/failure-modes.md #6, 7)."""


Body = TypeVar("Body", bound=msgspec.Struct)


async def strict_body(request: Request[Any, Any, Any], kind: type[Body]) -> Body:
    """Decode a JSON body again, strictly, for every handler that takes one.

    Litestar converts bodies leniently, which turns ``"100.00"`` into 100 cents: the
    cents-versus-dollars trap (docs/failure-modes.md #13).
    The handler keeps ``JSONBody[...]`` in its
    signature for the OpenAPI schema and reads the value from here.
    """
    try:
        body = msgspec.json.decode(await request.body(), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc)) from None
    if _has_nul(msgspec.to_builtins(body)):
        raise _nul("the request body")
    return body


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _nul(where: str) -> ValidationFailed:
    return ValidationFailed(f"{where} contains a NUL byte")


async def refuse_nul_bytes(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    """Path ids, query parameters and headers: a NUL never reaches a use case."""
    scope = connection.scope
    if "\x00" in scope["path"]:
        raise _nul("the path")
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        raise _nul("the query string")
    if any(b"\x00" in value for _, value in scope["headers"]):
        raise _nul("a header")


async def refuse_deep_json(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """A body Litestar is about to decode is measured first: decoding recurses."""
    if "data" not in route_handler.parsed_fn_signature.parameters:
        return
    if not isinstance(connection, Request):
        return
    if too_deep_or_not_json(await connection.body()):
        raise ValidationFailed(
            f"the body is not JSON or nests deeper than {MAX_DEPTH} levels", code="malformed_json"
        )


EDGE_GUARDS: list[Guard] = [refuse_nul_bytes, authenticate_first, refuse_deep_json]
"""Every route's first guards, in this order: cheap refusals, the caller, the body."""
