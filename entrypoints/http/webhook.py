"""POST /api/stripe/webhook: verify over the raw body, then apply exactly once.

Answers 200 for processed, duplicate, unknown and not-ours events; 400 for a bad
signature or body (nothing recorded); 5xx when processing failed, so Stripe retries
(docs/failure-modes.md #3). The raw bytes are read before any parsing: re-serialised JSON would
not match the signature.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency

from application.gateway import PaymentGateway
from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.receive_webhook import receive_webhook
from entrypoints.http.schemas import WebhookOut


@post("/api/stripe/webhook", status_code=200, tags=["webhooks"])
async def stripe_webhook(
    request: Request[Any, Any, Any],
    uow_factory: NamedDependency[UnitOfWorkFactory],
    gateway: NamedDependency[PaymentGateway],
    clock: NamedDependency[Clock],
) -> WebhookOut:
    payload = await request.body()
    outcome = await receive_webhook(
        payload,
        request.headers.get("stripe-signature"),
        gateway=gateway,
        uow_factory=uow_factory,
        clock=clock,
    )
    return WebhookOut(received=True, outcome=outcome.value)
