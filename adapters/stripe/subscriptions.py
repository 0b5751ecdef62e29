"""Subscriptions on Stripe: customers, Checkout in subscription mode, plan changes,
cancellation, and an invoice's payment.

A mixin of ``StripeGateway`` (it uses the gateway's client and secret). Plans are
Stripe Prices (``Plan.price_id``); an upgrade is charged at once with
``payment_behavior=pending_if_incomplete``, so a declined upgrade changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe

from adapters.stripe.billing import invoice_subscription, subscription_snapshot
from adapters.stripe.errors import translated_errors
from adapters.stripe.fields import object_id, text, timestamp
from adapters.stripe.params import with_session_placeholder
from application.subscriptions.gateway import (
    CustomerRequest,
    InvoiceRef,
    PlanChange,
    SubscriptionCheckoutCreated,
    SubscriptionCheckoutRequest,
)
from domain.errors import GatewayRejected
from domain.subscription import SubscriptionSnapshot


def subscription_checkout_params(req: SubscriptionCheckoutRequest) -> dict[str, Any]:
    """Only server-side values in metadata (docs/failure-modes.md #6, 7)."""
    metadata = {"user_id": req.user_id, "plan_id": req.plan.id}
    return {
        "mode": "subscription",
        "customer": req.customer_id,
        "line_items": [{"price": req.plan.price_id, "quantity": 1}],
        "success_url": with_session_placeholder(req.success_url),
        "cancel_url": req.cancel_url,
        "expires_at": int(req.expires_at.timestamp()),
        "client_reference_id": req.user_id,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
    }


def _options(key: str | None) -> dict[str, Any]:
    return {} if key is None else {"idempotency_key": key}


class StripeSubscriptions:
    _client: stripe.StripeClient
    _secret_key: str

    async def create_customer(self, request: CustomerRequest) -> str:
        with translated_errors(self._secret_key):
            customer = await self._client.v1.customers.create_async(
                {"email": request.email, "metadata": {"user_id": request.user_id}},
                {"idempotency_key": request.idempotency_key},
            )
        return str(customer.id)

    async def create_subscription_checkout(
        self, request: SubscriptionCheckoutRequest
    ) -> SubscriptionCheckoutCreated:
        with translated_errors(self._secret_key):
            session = await self._client.v1.checkout.sessions.create_async(
                subscription_checkout_params(request),  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        raw = session.to_dict()
        url = text(raw.get("url"))
        if url is None:
            raise GatewayRejected("Stripe created a checkout session without a hosted page url")
        expires_at: datetime = timestamp(raw.get("expires_at")) or request.expires_at
        return SubscriptionCheckoutCreated(str(raw["id"]), url, expires_at)

    async def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        with translated_errors(self._secret_key):
            subscription = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return subscription_snapshot(subscription.to_dict())

    async def change_subscription(self, change: PlanChange) -> SubscriptionSnapshot:
        with translated_errors(self._secret_key):
            current = await self._client.v1.subscriptions.retrieve_async(change.subscription_id)
            items = current.to_dict().get("items", {}).get("data") or []
            if not items:
                raise GatewayRejected(f"subscription {change.subscription_id} has no items")
            params: dict[str, Any] = {
                "items": [{"id": items[0]["id"], "price": change.plan.price_id}],
                "proration_behavior": "always_invoice" if change.prorate else "none",
            }
            if change.prorate:
                params["payment_behavior"] = "pending_if_incomplete"
            updated = await self._client.v1.subscriptions.update_async(
                change.subscription_id,
                params,
                _options(change.idempotency_key),  # type: ignore[arg-type]
            )
        return subscription_snapshot(updated.to_dict())

    async def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        with translated_errors(self._secret_key):
            if at_period_end:
                done = await self._client.v1.subscriptions.update_async(
                    subscription_id,
                    {"cancel_at_period_end": True},
                    _options(idempotency_key),  # type: ignore[arg-type]
                )
            else:
                done = await self._client.v1.subscriptions.cancel_async(
                    subscription_id,
                    None,
                    _options(idempotency_key),  # type: ignore[arg-type]
                )
        return subscription_snapshot(done.to_dict())

    async def resume_subscription(
        self, subscription_id: str, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        with translated_errors(self._secret_key):
            done = await self._client.v1.subscriptions.update_async(
                subscription_id,
                {"cancel_at_period_end": False},
                _options(idempotency_key),  # type: ignore[arg-type]
            )
        return subscription_snapshot(done.to_dict())

    async def invoice_payment_intent(self, invoice_id: str) -> str | None:
        """The paid InvoicePayment's PaymentIntent (``GET /v1/invoice_payments``)."""
        with translated_errors(self._secret_key):
            page = await self._client.v1.invoice_payments.list_async(
                {"invoice": invoice_id, "status": "paid", "limit": 10}
            )
        for payment in page.data:
            intent = object_id(payment.to_dict().get("payment", {}).get("payment_intent"))
            if intent:
                return intent
        return None

    async def invoice_of_payment(self, payment_intent_id: str) -> InvoiceRef | None:
        """PaymentIntents no longer name their invoice at the pinned API version; the
        InvoicePayment does (``GET /v1/invoice_payments`` by payment, invoice expanded
        for its customer and subscription)."""
        params = {
            "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
            "expand": ["data.invoice"],
            "limit": 1,
        }
        with translated_errors(self._secret_key):
            page = await self._client.v1.invoice_payments.list_async(params)  # type: ignore[arg-type]
        for payment in page.data:
            invoice = payment.to_dict().get("invoice")
            if isinstance(invoice, dict) and text(invoice.get("id")):
                return InvoiceRef(
                    str(invoice["id"]),
                    invoice_subscription(invoice),
                    object_id(invoice.get("customer")),
                )
            if text(invoice):
                return InvoiceRef(str(invoice), None, None)
        return None
