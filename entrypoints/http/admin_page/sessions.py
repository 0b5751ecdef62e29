"""Admin page sessions: kept on the server, named by a random id in the cookie.

The cookie carries only a 256-bit random session id (HttpOnly, SameSite=Strict,
Secure when the page is served over HTTPS, path /admin); the admin key it signed in
with stays in this process's memory, and every request authenticates it again, so a
key revoked or demoted since sign-in stops working at once. Sessions end after
``LIFETIME`` or on sign-out, and with the process: with several workers, pin an
operator to one (or sign in again). Each session has its own CSRF token, which every
form posts back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cachetools import TTLCache

COOKIE = "cl_admin_session"
LOGIN_COOKIE = "cl_admin_login"
LIFETIME_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class AdminSession:
    api_key: str
    csrf: str

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, sent or "")


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class AdminSessions:
    """Stored by the id's hash, so a memory dump shows no usable cookie value."""

    def __init__(self) -> None:
        self._sessions: TTLCache[str, AdminSession] = TTLCache(MAX_SESSIONS, LIFETIME_SECONDS)

    def open(self, api_key: str) -> tuple[str, AdminSession]:
        session_id = secrets.token_urlsafe(32)
        session = AdminSession(api_key, secrets.token_urlsafe(32))
        self._sessions[_digest(session_id)] = session
        return session_id, session

    def get(self, session_id: str | None) -> AdminSession | None:
        return self._sessions.get(_digest(session_id)) if session_id else None

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(_digest(session_id), None)
