"""Who is at the admin page: the signed-in session's key, authenticated again on every
request; anything else is sent to the sign-in form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from application.accounts.users import Principal
from domain.errors import Unauthenticated
from entrypoints.http.admin_page.security import HEADERS
from entrypoints.http.admin_page.sessions import COOKIE, AdminSession, AdminSessions
from entrypoints.http.auth import AUTHENTICATE, Authenticate

SESSIONS = "admin_sessions"
"""The app's state holds the ``AdminSessions`` under this name."""
PUBLIC_URL = "public_url"
"""... and the PUBLIC_URL setting (an https one makes the cookies Secure) under this."""


class SignInRequired(Exception):
    """No session, an expired one, or a key that is no longer an operator's."""


@dataclass(frozen=True, slots=True)
class Operator:
    principal: Principal
    session: AdminSession


def sessions_of(request: Request[Any, Any, Any]) -> AdminSessions:
    sessions: AdminSessions = request.app.state[SESSIONS]
    return sessions


async def operator(request: Request[Any, Any, Any]) -> Operator:
    session_id = request.cookies.get(COOKIE)
    session = sessions_of(request).get(session_id)
    if session is None:
        raise SignInRequired
    try:
        principal = await admin_principal(request, session.api_key)
    except Unauthenticated:
        sessions_of(request).close(session_id)
        raise SignInRequired from None
    return Operator(principal, session)


async def admin_principal(request: Request[Any, Any, Any], api_key: str) -> Principal:
    authenticate: Authenticate = request.app.state[AUTHENTICATE]
    principal = await authenticate(api_key)
    if not principal.is_admin:
        raise Unauthenticated("this key is not an operator's")
    return principal


def to_sign_in(_: Request[Any, Any, Any], __: SignInRequired) -> Response[Any]:
    return Redirect("/admin/login", status_code=303, headers=HEADERS)
