"""The sandbox's fake PSP: what Stripe would keep about sessions, intents and events.

Plain synchronous code over in-memory records; the gateway serialises access with
its lock. Objects are built from the same request parameters the Stripe adapter
sends (``adapters.stripe.params``), so metadata and redirect URLs look exactly as
they would on Stripe. Everything here is lost when the process stops: the sandbox
is a development and staging tool, never a record of money.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from adapters.sandbox.events import build_event
from adapters.sandbox.records import (
    CheckoutDetails,
    IntentRecord,
    SandboxEvent,
    SessionRecord,
    new_id,
)
from adapters.stripe import params as stripe_params
from application.purchases.gateway import CheckoutRequest, PaymentIntentRequest
from domain.errors import GatewayRejected, IdempotencyKeyReused, NotFound

# Stripe's bounds for a Checkout Session's ``expires_at``, counted from its creation.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=30)
CHECKOUT_MAX_LIFETIME = timedelta(hours=24)


class SandboxState:
    def __init__(self, public_url: str) -> None:
        self._public_url = public_url.rstrip("/")
        self.sessions: dict[str, SessionRecord] = {}
        self.intents: dict[str, IntentRecord] = {}
        self.events: list[SandboxEvent] = []
        self._keys: dict[str, tuple[object, str]] = {}

    def create_checkout(self, request: CheckoutRequest, now: datetime) -> SessionRecord:
        known = self.replay(request.idempotency_key, request)
        if known is not None:
            return self.sessions[known]
        _check_amount(request.amount)
        if not CHECKOUT_MIN_LIFETIME <= request.expires_at - now <= CHECKOUT_MAX_LIFETIME:
            raise GatewayRejected(
                "expires_at must be 30 minutes to 24 hours after creation",
                code="invalid_expires_at",
            )
        params = stripe_params.checkout_params(request)
        session_id = new_id("cs_test")
        intent_metadata = string_map(params["payment_intent_data"].get("metadata"))
        intent = self._new_intent(request, intent_metadata, now)
        intent.session_id = session_id
        session = SessionRecord(
            id=session_id,
            amount=request.amount,
            currency=request.currency,
            description=request.description,
            metadata=string_map(params.get("metadata")),
            success_url=params["success_url"],
            cancel_url=params["cancel_url"],
            url=f"{self._public_url}/sandbox/checkout/{session_id}",
            expires_at=request.expires_at,
            created=timestamp(now),
            intent_id=intent.id,
        )
        self.sessions[session_id] = session
        self.remember(request.idempotency_key, request, session_id)
        return session

    def create_intent(self, request: PaymentIntentRequest, now: datetime) -> IntentRecord:
        known = self.replay(request.idempotency_key, request)
        if known is not None:
            return self.intents[known]
        _check_amount(request.amount)
        metadata = string_map(stripe_params.intent_params(request).get("metadata"))
        intent = self._new_intent(request, metadata, now)
        self.remember(request.idempotency_key, request, intent.id)
        return intent

    def _new_intent(
        self,
        request: CheckoutRequest | PaymentIntentRequest,
        metadata: dict[str, str],
        now: datetime,
    ) -> IntentRecord:
        intent_id = new_id("pi")
        intent = IntentRecord(
            id=intent_id,
            amount=request.amount,
            currency=request.currency,
            description=request.description,
            metadata=metadata,
            client_secret=new_id(f"{intent_id}_secret"),
            created=timestamp(now),
        )
        self.intents[intent_id] = intent
        return intent

    def replay(self, key: str, request: object) -> str | None:
        """The id first created under ``key``; reusing a key for another request fails."""
        if key not in self._keys:
            return None
        first, object_id = self._keys[key]
        if first != request:
            raise IdempotencyKeyReused(f"idempotency key {key!r} was used with other parameters")
        return object_id

    def remember(self, key: str, request: object, object_id: str) -> None:
        self._keys[key] = (request, object_id)

    def session(self, session_id: str) -> SessionRecord:
        if session_id not in self.sessions:
            raise NotFound(f"no such checkout session: {session_id}")
        return self.sessions[session_id]

    def intent(self, intent_id: str) -> IntentRecord:
        if intent_id not in self.intents:
            raise NotFound(f"no such payment intent: {intent_id}")
        return self.intents[intent_id]

    def details(self, session_id: str) -> CheckoutDetails:
        """What the test page shows; the redirect placeholder is filled as Stripe does."""
        session = self.session(session_id)
        return CheckoutDetails(
            session_id=session.id,
            status=session.status,
            amount=session.amount,
            currency=session.currency,
            description=session.description,
            success_url=session.success_url.replace(
                stripe_params.CHECKOUT_SESSION_PLACEHOLDER, session.id
            ),
            cancel_url=session.cancel_url,
        )

    def emit(self, event_type: str, obj: dict[str, Any], now: datetime) -> SandboxEvent:
        """Record an event; every event is kept, as Stripe's events API keeps them."""
        event = build_event(event_type, obj, timestamp(now))
        self.events.append(event)
        return event


def string_map(value: object) -> dict[str, str]:
    """Stripe parameter metadata as our records keep it (a fresh plain dict)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _check_amount(amount: int) -> None:
    if amount <= 0:
        raise GatewayRejected("amount must be a positive integer", code="amount_too_small")
