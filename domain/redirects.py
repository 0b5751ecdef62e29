"""Where Checkout may send the customer back to: only the frontend's own origin."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from domain.errors import RedirectNotAllowed


def _split(url: str) -> tuple[SplitResult, int | None]:
    """``urlsplit`` and its port; a bad port or IPv6 literal is a refused URL, not a crash."""
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError:
        raise RedirectNotAllowed("redirect URL has a malformed host or port") from None


def origin_of(url: str) -> tuple[str, str]:
    parts, port = _split(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RedirectNotAllowed(f"'{url}' is not an absolute http(s) URL")
    port = port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{parts.hostname.lower()}:{port}"


@dataclass(frozen=True, slots=True)
class RedirectPolicy:
    """Success and cancel URLs must stay within ``frontend_url``'s origin (no open redirect)."""

    frontend_url: str

    def resolve(self, url: str | None, default_path: str) -> str:
        if url is None:
            return self.frontend_url.rstrip("/") + default_path
        # Browsers read "\\" as "/" and "user@host" as host, so either could smuggle
        # another origin past urlsplit: both are refused outright.
        if any(ch in url for ch in "\r\n\t \\") or len(url) > 2048:
            raise RedirectNotAllowed("redirect URL contains whitespace or '\\', or is too long")
        if "@" in _split(url)[0].netloc:
            raise RedirectNotAllowed("redirect URLs may not carry credentials")
        if origin_of(url) != origin_of(self.frontend_url):
            raise RedirectNotAllowed("redirect URLs must stay on FRONTEND_URL's origin")
        return url
