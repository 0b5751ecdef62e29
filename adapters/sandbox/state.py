"""The sandbox's fake PSP: what Stripe would keep about sessions, intents and events.

``SandboxState`` is one operation's view: the records it loaded from the store (see
``adapters.sandbox.transact``), which plain synchronous code then changes, and the
events and idempotency keys it adds; ``changes()`` is what gets written back. Objects
are built from the same request parameters the Stripe adapter sends
(``adapters.stripe.params``), so metadata and redirect URLs look exactly as they
would on Stripe. The sandbox is a development and staging tool, never a record of money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from adapters.sandbox import codec
from adapters.sandbox.events import build_event
from adapters.sandbox.records import (
    CheckoutDetails,
    IntentRecord,
    SandboxEvent,
    SessionRecord,
    new_id,
)
from adapters.sandbox.store import Changes, StoredKey, StoredObject
from adapters.sandbox.subscription_records import (
    CustomerRecord,
    InvoiceRecord,
    SetupSessionRecord,
    SubscriptionBook,
    SubscriptionRecord,
)
from adapters.stripe import params as stripe_params
from application.purchases.gateway import CheckoutRequest, PaymentIntentRequest
from domain.errors import GatewayRejected, IdempotencyKeyReused, NotFound

# Stripe's bounds for a Checkout Session's ``expires_at``, counted from its creation.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=30)
CHECKOUT_MAX_LIFETIME = timedelta(hours=24)


class SandboxState:
    def __init__(
        self,
        public_url: str,
        loaded: Iterable[StoredObject] = (),
        keys: Mapping[str, StoredKey] | None = None,
    ) -> None:
        self._public_url = public_url.rstrip("/")
        self.sessions: dict[str, SessionRecord] = {}
        self.intents: dict[str, IntentRecord] = {}
        self.book = SubscriptionBook()  # customers and their cards, subscriptions, invoices
        self.events: list[SandboxEvent] = []
        self._loaded = {stored.id: stored for stored in loaded}
        self._keys = dict(keys or {})
        self._new_keys: dict[str, StoredKey] = {}
        for stored in self._loaded.values():
            self._place(codec.decode(stored))

    def _place(self, record: codec.Record) -> None:
        if isinstance(record, SessionRecord):
            self.sessions[record.id] = record
        elif isinstance(record, IntentRecord):
            self.intents[record.id] = record
        elif isinstance(record, CustomerRecord):
            self.book.customers[record.id] = record
        elif isinstance(record, SubscriptionRecord):
            self.book.subscriptions[record.id] = record
        elif isinstance(record, InvoiceRecord):
            self.book.invoices[record.id] = record
        elif isinstance(record, SetupSessionRecord):
            self.book.setups[record.id] = record
        else:
            self.book.sessions[record.id] = record

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
            customer_id=params.get("customer"),
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
        """The id first created under ``key``; reusing a key for another request fails.

        The key must have been loaded with this state (``transact`` does it).
        """
        known = self._keys.get(key)
        if known is None:
            return None
        if known.request != codec.fingerprint(request):
            raise IdempotencyKeyReused(f"idempotency key {key!r} was used with other parameters")
        return known.object_id

    def remember(self, key: str, request: object, object_id: str) -> None:
        self._keys[key] = self._new_keys[key] = StoredKey(codec.fingerprint(request), object_id)

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

    def changes(self) -> Changes:
        """Every record that is new or differs from what was loaded, the keys and events."""
        created: list[StoredObject] = []
        updated: list[StoredObject] = []
        records: list[codec.Record] = [
            *self.sessions.values(),
            *self.intents.values(),
            *self.book.records(),
        ]
        for record in records:
            stored = codec.encode(record)
            before = self._loaded.get(stored.id)
            if before is None:
                created.append(stored)
            elif before.body != stored.body:
                updated.append(stored)
        return Changes(tuple(created), tuple(updated), dict(self._new_keys), tuple(self.events))


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
