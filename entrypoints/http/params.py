"""What every controller reads: strict bodies, shared parameters, bound use cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.params import HeaderParameter, QueryParameter

from domain.errors import ValidationFailed

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
Limit = Annotated[int | None, QueryParameter(name="limit", required=False)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False, max_length=200)]

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
