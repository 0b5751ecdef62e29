"""Stripe SDK failures mapped, in one place, to the two gateway errors of the domain.

Messages keep Stripe's error code and request id (what support needs) and lose any API
key: Stripe echoes a partial key for a wrong one, and callers may log or return the
message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from domain.errors import GatewayRejected, GatewayUnavailable

_KEY_LIKE = re.compile(r"\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_*]+")

# Worth retrying later: the request may be fine, Stripe or our configuration is not.
_TRANSIENT = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)


@contextmanager
def translated_errors(secret_key: str) -> Iterator[None]:
    """Raise ``GatewayUnavailable`` or ``GatewayRejected`` instead of SDK errors.

    The SDK error is not chained: its body and headers stay out of logged tracebacks.
    """
    try:
        yield
    except stripe.StripeError as exc:
        raise gateway_error(exc, secret_key) from None


def gateway_error(exc: stripe.StripeError, secret_key: str) -> GatewayUnavailable | GatewayRejected:
    detail = _describe(exc, secret_key)
    if isinstance(exc, _TRANSIENT) or exc.http_status is None or exc.http_status >= 500:
        return GatewayUnavailable(f"Stripe is unavailable: {detail}")
    return GatewayRejected(f"Stripe rejected the request: {detail}")


def _describe(exc: stripe.StripeError, secret_key: str) -> str:
    message = redact(exc.user_message or type(exc).__name__, secret_key)
    parts = [message]
    if exc.code:
        parts.append(f"code={exc.code}")
    decline_code = getattr(exc.error, "decline_code", None)
    if decline_code:
        parts.append(f"decline_code={decline_code}")
    if exc.http_status is not None:
        parts.append(f"status={exc.http_status}")
    if exc.request_id:
        parts.append(f"request={exc.request_id}")
    return " ".join(parts)


def redact(text: str, secret_key: str) -> str:
    if secret_key:
        text = text.replace(secret_key, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)
