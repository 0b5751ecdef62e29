"""Per-caller rate limiting (429), keyed by API key, else by client address.

Stripe's webhooks, health checks and the sandbox are exempt: throttling Stripe
would only delay credits, and Stripe already paces its retries. Counters live in
the process, so with several replicas each enforces the limit on its own share.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.types import Middleware

EXEMPT = ["^/api/stripe/webhook$", "^/health$", "^/ready$", "^/sandbox/"]


def _caller(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    if header:
        return "key:" + hashlib.sha256(header.encode("utf-8")).hexdigest()[:32]
    return "ip:" + get_remote_address(request)


def rate_limit(per_minute: int) -> list[Middleware]:
    """The middleware list for ``RATE_LIMIT_PER_MINUTE`` (0 turns limiting off)."""
    if per_minute <= 0:
        return []
    config = RateLimitConfig(
        rate_limit=("minute", per_minute), exclude=EXEMPT, identifier_for_request=_caller
    )
    return [config.middleware]
