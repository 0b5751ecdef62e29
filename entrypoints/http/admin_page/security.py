"""What every admin page answer carries, and the checks every form post passes.

A strict Content-Security-Policy: nothing but this app's own stylesheet loads (no
script at all, the chart is inline SVG drawn on the server), forms post only here,
no framing. A post must come from this origin (``Origin``, when the browser sends
it; the referrer policy is same-origin because ``no-referrer`` makes Chromium send
``Origin: null``) and carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from domain.errors import Forbidden

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_https(request: Request[Any, Any, Any], public_url: str) -> bool:
    return request.url.scheme == "https" or public_url.startswith("https://")


def check_origin(request: Request[Any, Any, Any]) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise Forbidden("form posted from another origin", code="csrf_failed")
