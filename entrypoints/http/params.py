"""Request parameters and bodies as every controller reads them."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.params import HeaderParameter, QueryParameter

from domain.errors import ValidationFailed

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
Limit = Annotated[int | None, QueryParameter(name="limit", required=False)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False, max_length=200)]

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
