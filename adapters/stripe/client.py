"""The payment gateway on Stripe, through the official SDK's ``StripeClient``.

A thin wrapper: requests are translated in ``params``, Stripe objects in ``mapping``,
SDK errors in ``errors`` and webhook bodies in ``events``. Only the ``v1`` namespace
and its async calls are used; the API version is pinned so that an SDK upgrade cannot
change the shapes we read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import stripe

from adapters.stripe import events, mapping, params
from adapters.stripe.errors import translated_errors
from adapters.stripe.subscriptions import StripeSubscriptions
from application.purchases.gateway import (
    CheckoutCreated,
    CheckoutRequest,
    CheckoutState,
    PaymentIntentRequest,
    PaymentIntentState,
)
from application.refunds.gateway import GatewayRefund, RefundRequest
from application.webhooks.events import GatewayEvent

PINNED_API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
REQUEST_TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 100


class StripeGateway(StripeSubscriptions):
    """Every create call carries the caller's idempotency key, so retries replay.

    The SDK retries connection failures, 409s and 5xx itself (with the same key).
    """

    def __init__(
        self, secret_key: str, webhook_secrets: Sequence[str], api_base: str | None = None
    ) -> None:
        self._secret_key = secret_key
        self.webhook_secrets = tuple(webhook_secrets)
        self._http = stripe.HTTPXClient(timeout=REQUEST_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            secret_key,
            stripe_version=PINNED_API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return f"StripeGateway(api_version={PINNED_API_VERSION!r})"

    async def aclose(self) -> None:
        """Close the HTTP connection pool (at application shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # unannotated in SDK

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        with translated_errors(self._secret_key):
            session = await self._client.v1.checkout.sessions.create_async(
                params.checkout_params(request),
                {"idempotency_key": request.idempotency_key},
            )
        return mapping.checkout_created(session.to_dict(), request)

    async def get_checkout(self, session_id: str) -> CheckoutState:
        with translated_errors(self._secret_key):
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        return mapping.checkout_state(session.to_dict())

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        """Close an open session so it can no longer be paid (stale-session batch)."""
        with translated_errors(self._secret_key):
            session = await self._client.v1.checkout.sessions.expire_async(session_id)
        return mapping.checkout_state(session.to_dict())

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState:
        with translated_errors(self._secret_key):
            intent = await self._client.v1.payment_intents.create_async(
                params.intent_params(request),
                {"idempotency_key": request.idempotency_key},
            )
        return mapping.intent_state(intent.to_dict())

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState:
        with translated_errors(self._secret_key):
            intent = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return mapping.intent_state(intent.to_dict())

    async def cancel_payment_intent(self, intent_id: str) -> PaymentIntentState:
        with translated_errors(self._secret_key):
            intent = await self._client.v1.payment_intents.cancel_async(intent_id)
        return mapping.intent_state(intent.to_dict())

    async def refund(self, request: RefundRequest) -> GatewayRefund:
        with translated_errors(self._secret_key):
            refund = await self._client.v1.refunds.create_async(
                params.refund_params(request),
                {"idempotency_key": request.idempotency_key},
            )
        return mapping.gateway_refund(refund.to_dict())

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]:
        """Every refund of the intent, however many pages Stripe splits them into."""
        with translated_errors(self._secret_key):
            page = await self._client.v1.refunds.list_async(
                {"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
            )
            return [
                mapping.gateway_refund(refund.to_dict()) async for refund in page.auto_paging_iter()
            ]

    async def list_events(self, created_after: datetime) -> list[GatewayEvent]:
        """Events created at or after ``created_after``, oldest first (reconciliation).

        Inclusive because Stripe's timestamps are whole seconds: an event seen twice is
        harmless (events are deduplicated by id), an event missed is a lost payment.
        """
        with translated_errors(self._secret_key):
            page = await self._client.v1.events.list_async(
                {"created": {"gte": int(created_after.timestamp())}, "limit": PAGE_SIZE}
            )
            translated = [
                events.translate_event(event.to_dict()) async for event in page.auto_paging_iter()
            ]
        return sorted(translated, key=_created_order)

    def parse_event(self, payload: bytes, signature: str | None) -> GatewayEvent:
        return events.parse_event(payload, signature, self.webhook_secrets)


def _created_order(event: GatewayEvent) -> float:
    return event.created_at.timestamp() if event.created_at else 0.0
