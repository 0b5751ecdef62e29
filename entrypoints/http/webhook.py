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
from application.webhooks import receive_webhook as receiving
from application.webhooks.handling import EventOutcome
from entrypoints.http.errors import error_response_for
from entrypoints.http.params import UseCase
from entrypoints.http.schemas import WebhookOut

PATH = "/api/stripe/webhook"


@post(PATH, status_code=200, tags=["webhooks"])
async def stripe_webhook(
    request: Request[Any, Any, Any], receive_webhook: NamedDependency[UseCase[EventOutcome]]
) -> WebhookOut:
    outcome = await receive_webhook(await request.body(), request.headers.get("stripe-signature"))
    return WebhookOut(received=True, outcome=outcome.value)


class InProcessDelivery:
    """Hands the sandbox's signed events to the webhook path, as Stripe would over HTTP.

    The answer is the status this route would send: the app's one error mapping.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        observe: receiving.WebhookObserver = receiving.unobserved,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._observe = observe
        self.gateway: PaymentGateway | None = None

    async def __call__(self, payload: bytes, signature: str) -> int:
        assert self.gateway is not None, "bind the gateway before delivering"
        try:
            await receiving.receive_webhook(
                payload,
                signature,
                gateway=self.gateway,
                uow_factory=self._uow_factory,
                clock=self._clock,
                observe=self._observe,
            )
        except Exception as exc:
            return error_response_for(exc, PATH).status_code
        return 200
