"""What the subscription use cases take from configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.plans import PlanCatalogue
from domain.redirects import RedirectPolicy


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    plans: PlanCatalogue
    redirects: RedirectPolicy
    checkout_expires_in: timedelta


def client_key(user_id: str, action: str, idempotency_key: str | None) -> str | None:
    """The gateway idempotency key for a client's ``Idempotency-Key``: a retried request
    replays the gateway's first answer. Without one, each request acts anew."""
    if idempotency_key is None:
        return None
    return f"subscription:{user_id}:{action}:{idempotency_key}"[:255]
