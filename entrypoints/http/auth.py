"""Who is calling: authenticated once per request, by the guard or the dependency.

Operator routes carry the ``requires_admin`` guard; handlers that act for a user take
the ``principal`` dependency. Either asks first, the other reuses the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from application.accounts.users import Principal
from domain.errors import Forbidden

Authenticate = Callable[[str | None], Awaitable[Principal]]
AUTHENTICATE = "authenticate"
"""The app's state holds the bound ``authenticate`` use case under this name."""

_PRINCIPAL = "principal"


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    state = connection.scope.setdefault("state", {})
    principal: Principal | None = state.get(_PRINCIPAL)
    if principal is None:
        authenticate: Authenticate = connection.app.state[AUTHENTICATE]
        principal = state[_PRINCIPAL] = await authenticate(_bearer(connection))
    return principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return await principal_of(request)


async def requires_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Operator routes: an admin user's key, or one of ADMIN_API_KEYS."""
    if not (await principal_of(connection)).is_admin:
        raise Forbidden("admin only")
