"""Who is calling: authenticated once per request, by the guard or the dependency.

Operator routes carry the ``requires_admin`` guard; handlers that act for a user take
the ``principal`` dependency. Either asks first, the other reuses the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from cachetools import TTLCache
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from application.accounts.users import Principal
from application.ids import hash_api_key
from domain.errors import Forbidden, Unauthenticated

Authenticate = Callable[[str | None], Awaitable[Principal]]
AUTHENTICATE = "authenticate"
"""The app's state holds the bound ``authenticate`` use case under this name."""

_PRINCIPAL = "principal"
_REFUSED = "principal_refused"


RECENT_CALLERS = "recent_callers"
"""The app's state holds the ``RecentCallers`` the rate limiter reads under this name."""


KEY_TRUST_SECONDS = 5
"""How long a process trusts a key it checked: a key revoked through another worker
process (or in the database) stops working within this time; through this one, at once."""


class RecentCallers:
    """Which principal each recently authenticated key belongs to, by the key's digest.

    The rate limiter runs before authentication and must not query the database: it
    keys a request on its principal only when this knows the key (a wrong key never
    gets here). Balance reads trust a key checked in the last ``trust_seconds``
    (``TRUSTS_RECENT_KEYS``), which spares each its own authentication transaction.
    Bounded in size and age; a key that fails is forgotten at once, and so are a
    user's keys when one is revoked.
    """

    def __init__(
        self,
        max_keys: int = 100_000,
        ttl_seconds: int = 3600,
        trust_seconds: float = KEY_TRUST_SECONDS,
    ) -> None:
        self._principals: TTLCache[str, str] = TTLCache(max_keys, ttl_seconds)
        self._trusted: TTLCache[str, Principal] = TTLCache(max_keys, trust_seconds)

    def principal_for(self, token: str) -> str | None:
        return self._principals.get(hash_api_key(token))

    def trusted(self, token: str) -> Principal | None:
        """The principal of a key checked less than ``trust_seconds`` ago."""
        return self._trusted.get(hash_api_key(token))

    def remember(self, token: str, principal: Principal) -> None:
        digest = hash_api_key(token)
        user = principal.user
        self._principals[digest] = f"user:{user.id}" if user else f"operator:{digest[:16]}"
        self._trusted[digest] = principal

    def forget(self, token: str) -> None:
        digest = hash_api_key(token)
        self._principals.pop(digest, None)
        self._trusted.pop(digest, None)

    def forget_user(self, user_id: str) -> None:
        """A key of this user was revoked: check all of theirs again."""
        for digest, principal in list(self._trusted.items()):
            if principal.user is not None and principal.user.id == user_id:
                self._trusted.pop(digest, None)


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The key of ``Authorization: Bearer <key>``, the scheme in any case."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Authenticated once per request: the rate limiter may have asked already, and a
    refusal is remembered too, so a wrong key costs one lookup."""
    state = connection.scope.setdefault("state", {})
    refused: Unauthenticated | None = state.get(_REFUSED)
    if refused is not None:
        raise Unauthenticated(refused.message)
    principal: Principal | None = state.get(_PRINCIPAL)
    if principal is None:
        try:
            principal = state[_PRINCIPAL] = await _authenticate(connection)
        except Unauthenticated as exc:
            state[_REFUSED] = exc
            raise
        if principal.user is not None:
            structlog.contextvars.bind_contextvars(user_id=principal.user.id)
    return principal


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    authenticate: Authenticate = connection.app.state[AUTHENTICATE]
    recent: RecentCallers | None = connection.app.state.get(RECENT_CALLERS)
    token = bearer_token(connection)
    if token and recent and _reads_balances(connection):
        trusted = recent.trusted(token)
        if trusted is not None:
            return trusted
    try:
        principal = await authenticate(token)
    except Unauthenticated:
        if token and recent:
            recent.forget(token)
        raise
    if token and recent:
        recent.remember(token, principal)
    return principal


TRUSTS_RECENT_KEYS = "trusts_recent_keys"
"""Route option: the route needs only who the caller is (a balance read), so a key
checked in the last ``KEY_TRUST_SECONDS`` is not checked again. Routes that show the
user's own row (``/me``) leave it off: the cached row could be that old."""


def _reads_balances(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    handler = connection.scope.get("route_handler")
    return handler is not None and bool(handler.opt.get(TRUSTS_RECENT_KEYS))


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return await principal_of(request)


def needs_key(route_handler: BaseRouteHandler) -> bool:
    """A route that acts for its caller or is for some callers only."""
    acts_for_caller = "principal" in route_handler.parsed_fn_signature.parameters
    return acts_for_caller or has_role_guard(route_handler)


def has_role_guard(route_handler: BaseRouteHandler) -> bool:
    """Whether the route admits only some callers (operators, services): a 403 for others."""
    guards = route_handler.resolve_guards()
    return requires_admin in guards or requires_service in guards


async def authenticate_first(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """A route that needs a key asks for it before its body is read or decoded: a
    caller without a key gets 401 whatever it sends."""
    if needs_key(route_handler):
        await principal_of(connection)


async def requires_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Operator routes: an admin user's key, or one of ADMIN_API_KEYS."""
    if not (await principal_of(connection)).is_admin:
        raise Forbidden("admin only")


async def requires_service(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Spending routes: a key from SERVICE_API_KEYS or an admin's, never a user's own."""
    if not (await principal_of(connection)).may_spend_for_anyone:
        raise Forbidden("service or admin key required", code="service_key_required")
