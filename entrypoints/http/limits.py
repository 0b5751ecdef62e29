"""Per-caller rate limiting (429), keyed by the authenticated principal, else by address.

The limiter runs before authentication. A bearer key that authenticated lately is
known (``RecentCallers``): its requests spend its principal's budget, however the
header is spelled and whichever of the user's keys is sent. Every other request, a
missing, unknown or wrong key alike, spends its client address's budget, so guessing
keys or coupon codes costs the guesser's address at most one lookup per allowed
request. ``X-Forwarded-For`` names the client only when the peer is one of
``TRUSTED_PROXIES``.

Stripe's webhooks, health checks, metrics scrapes and the sandbox are exempt: throttling Stripe
would only delay credits, and Stripe already paces its retries. Counters live in
the process, so with several replicas each enforces the limit on its own share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from cachetools import TTLCache
from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.stores.base import Store
from litestar.types import Message, Middleware, Receive, Scope, Send

from domain.errors import Unauthenticated
from entrypoints.http.auth import RECENT_CALLERS, RecentCallers, bearer_token, principal_of

EXEMPT = ["^/api/stripe/webhook$", "^/health$", "^/ready$", "^/metrics$", "^/sandbox/"]
WINDOW_SECONDS = 60
MAX_BUCKETS = 100_000
STORE = "rate_limit"

Network = IPv4Network | IPv6Network


@dataclass(slots=True)
class Window:
    """One caller's budget: ``spent`` requests in the window that ends at ``reset``."""

    reset: int  # Unix seconds
    spent: int = 0


class BucketStore(Store):
    """Each caller's ``Window``, dropped once its window has passed, at most
    ``max_buckets`` of them (least recently used go first).

    ``spend`` counts a request in O(1). Litestar's own limiter keeps a list of every
    request's time in the window and decodes and re-encodes it as JSON on each request,
    behind one lock for all callers: a fifth of a balance read's CPU at a few hundred
    requests a minute, more as a caller's list grows. The ``Store`` methods remain for
    Litestar's registry (``app.stores``).
    """

    def __init__(
        self,
        max_buckets: int = MAX_BUCKETS,
        window_seconds: int = WINDOW_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window_seconds = window_seconds
        self._buckets: TTLCache[str, Window | bytes] = TTLCache(max_buckets, window_seconds, timer)

    def bucket_count(self) -> int:
        """Not ``__len__``: Litestar's registry would take an empty store for none."""
        self._buckets.expire()
        return len(self._buckets)

    def spend(self, key: str, limit: int, now: int) -> tuple[Window, bool]:
        """Count one request of ``key`` unless its window already holds ``limit``: the
        window, and whether the request was counted. No await: atomic on the event loop."""
        window = self._buckets.get(key)
        if not isinstance(window, Window) or window.reset <= now:
            window = self._buckets[key] = Window(now + self._window_seconds)
        if window.spent >= limit:
            return window, False
        window.spent += 1
        return window, True

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        self._buckets[key] = value.encode() if isinstance(value, str) else value

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        value = self._buckets.get(key)
        return value if isinstance(value, bytes) else None

    async def delete(self, key: str) -> None:
        self._buckets.pop(key, None)

    async def delete_all(self) -> None:
        self._buckets.clear()

    async def exists(self, key: str) -> bool:
        return key in self._buckets

    async def expires_in(self, key: str) -> int | None:
        return self._window_seconds if key in self._buckets else None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The peer, or, behind trusted proxies, the last hop none of them added: a client
    can write anything into X-Forwarded-For, but only before our proxies append."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


class _Limiter(RateLimitMiddleware):
    """Litestar's limiter configuration and exemptions, told who is calling, counting in
    ``BucketStore.spend``; its 429 says when to retry."""

    proxies: tuple[Network, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope)
        try:
            window = self._spend(f"caller:{await self._caller(request)}", request)
        except TooManyRequestsException as exc:
            reset = (exc.headers or {}).get(self.config.rate_limit_reset_header_key)
            if reset is not None:
                exc.headers["Retry-After"] = reset
            raise
        if self.config.set_rate_limit_headers:
            send = self._telling(send, window)
        await self.app(scope, receive, send)

    def _spend(self, key: str, request: Request[Any, Any, Any]) -> Window:
        store = self.config.get_store_from_app(request.app)
        assert isinstance(store, BucketStore)
        now = int(time.time())
        window, counted = store.spend(key, self.max_requests, now)
        if not counted:
            headers = self._headers(window, now) if self.config.set_rate_limit_headers else None
            raise TooManyRequestsException(headers=headers)
        return window

    def _headers(self, window: Window, now: int) -> dict[str, str]:
        """The IETF draft's ``RateLimit-*`` fields, as Litestar names them."""
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={WINDOW_SECONDS}",
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(max(self.max_requests - window.spent, 0)),
            config.rate_limit_reset_header_key: str(max(window.reset - now, 0)),
        }

    def _telling(self, send: Send, window: Window) -> Send:
        async def telling(message: Message) -> None:
            if message["type"] == "http.response.start":
                told = self._headers(window, int(time.time()))
                fields = [(k.lower().encode(), v.encode()) for k, v in told.items()]
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        return telling

    async def _caller(self, request: Request[Any, Any, Any]) -> str:
        """A known key's principal; else the client address, after an unknown key has
        spent one of its address's lookups (a wrong key never becomes known)."""
        forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
        address = "addr:" + client_address(get_remote_address(request), forwarded, self.proxies)
        token = bearer_token(request)
        recent: RecentCallers | None = request.app.state.get(RECENT_CALLERS)
        if token is None or recent is None:
            return address
        known = recent.principal_for(token)
        if known is not None:
            return known
        self._spend("lookup:" + address, request)
        try:
            await principal_of(request)
        except Unauthenticated:
            return address
        return recent.principal_for(token) or address


def rate_limit(per_minute: int, trusted_proxies: Sequence[Network] = ()) -> list[Middleware]:
    """The middleware list for ``RATE_LIMIT_PER_MINUTE`` (0 turns limiting off)."""
    if per_minute <= 0:
        return []
    limiter = type("Limiter", (_Limiter,), {"proxies": tuple(trusted_proxies)})
    config = RateLimitConfig(
        rate_limit=("minute", per_minute),
        exclude=EXEMPT,
        middleware_class=limiter,
        store=STORE,
    )
    return [config.middleware]


def limiter_stores() -> dict[str, Store]:
    return {STORE: BucketStore()}
