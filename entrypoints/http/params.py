"""What every controller reads: strict bodies, shared parameters, bound use cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.params import HeaderParameter, QueryParameter

from application.queries import MAX_PAGE
from domain.errors import ValidationFailed

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
        return msgspec.json.decode(await request.body(), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc)) from None
