"""Use-case tests run on the memory adapters, the memory gateway and a fixed clock.

``App`` bundles the store, the gateway and the clock with the calls a test needs:
create a user, open a payment, pay it at the gateway (events kept, not delivered),
hand events to ``handle_gateway_event``, and read the committed state back. Tests
assert on that state (balances, statuses, entries, recorded events), never on calls.

Events come from the gateway itself (``events_of(outcome)``, ``kept_events``), or are
written by hand as Stripe-shaped dicts (``stripe_event``) for what the sandbox cannot
produce: delayed payment methods, other apps' objects, tampered amounts.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.memory.uow import MemoryStore
from adapters.sandbox.memory_store import MemorySandboxStore
from adapters.sandbox.records import Outcome
from adapters.sandbox.webhooks import Deliver
from adapters.stripe.events import translate_event
from application.accounts.users import create_user
from application.bootstrap import follow_ups
from application.purchases.create_checkout_session import (
    CheckoutSessionCreated,
    CheckoutSettings,
    CreateCheckoutSession,
    create_checkout_session,
)
from application.purchases.create_payment_intent import PaymentIntentCreated, create_payment_intent
from application.purchases.orders import Order
from application.refunds.gateway import GatewayRefund, RefundRequest
from application.subscriptions.customers import customer_of
from application.webhooks.events import GatewayEvent
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventNotReady, EventOutcome
from application.webhooks.receive_webhook import receive_webhook
from domain.credits import CreditPackage, CreditRate, PricingPolicy
from domain.ledger import EntryKind, LedgerEntry
from domain.money import Money
from domain.payment import Payment
from domain.redirects import RedirectPolicy

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FRONTEND = "https://app.example.com"

CARD_OK = "4242424242424242"
CARD_NO_FUNDS = "4000000000009995"
CARD_EXPIRED = "4000000000000069"
CARD_3DS = "4000002500003155"

PRICING = PricingPolicy(
    rates={"usd": CreditRate("usd", 1), "eur": CreditRate("eur", 108, 100)},
    min_amount=50,
    max_amount=1_000_000,
    packages=(
        CreditPackage("starter", "Starter", 1000, Money(1000, "usd")),
        CreditPackage("pro", "Pro", 5500, Money(5000, "usd"), discount_percentage=9, popular=True),
        CreditPackage("odd", "Odd", 1100, Money(999, "usd")),
    ),
)
EXPIRES_IN = timedelta(hours=1)


def checkout_settings() -> CheckoutSettings:
    return CheckoutSettings(PRICING, RedirectPolicy(FRONTEND), EXPIRES_IN)


# ---- events ----------------------------------------------------------------------------


def events_of(outcome: Outcome) -> list[GatewayEvent]:
    """The Stripe-shaped events a sandbox action produced, as the webhook would see them."""
    return [translate_event(payload) for payload in outcome.payloads()]


def stripe_event(
    event_type: str, obj: Mapping[str, Any], *, event_id: str | None = None
) -> GatewayEvent:
    """A hand-written Stripe event around ``obj``, translated as the adapter does."""
    return translate_event(
        {
            "id": event_id or f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": event_type,
            "created": int(T0.timestamp()),
            "livemode": False,
            "data": {"object": dict(obj)},
        }
    )


def session_object(payment: Payment, **overrides: Any) -> dict[str, Any]:
    """The Checkout Session of ``payment`` as Stripe sends it (paid unless overridden)."""
    obj: dict[str, Any] = {
        "id": payment.stripe_session_id,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": payment.amount,
        "currency": payment.currency,
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": {"payment_id": payment.id, "user_id": payment.user_id},
    }
    obj.update(overrides)
    return obj


def intent_object(payment: Payment, **overrides: Any) -> dict[str, Any]:
    """The PaymentIntent of ``payment`` as Stripe sends it (succeeded unless overridden)."""
    obj: dict[str, Any] = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": payment.amount,
        "amount_received": payment.amount,
        "currency": payment.currency,
        "metadata": {"payment_id": payment.id, "user_id": payment.user_id},
    }
    obj.update(overrides)
    return obj


def refund_object(refund: GatewayRefund) -> dict[str, Any]:
    return {
        "id": refund.refund_id,
        "object": "refund",
        "amount": refund.amount,
        "currency": refund.currency,
        "payment_intent": refund.payment_intent_id,
        "status": refund.status.value,
    }


def charge_object(
    payment: Payment, refunds: list[GatewayRefund] | None, **overrides: Any
) -> dict[str, Any]:
    """A refunded charge; ``refunds=None`` leaves the list out, as newer API versions do."""
    obj: dict[str, Any] = {
        "id": f"ch_{payment.id}",
        "object": "charge",
        "amount": payment.amount,
        "amount_refunded": sum(r.amount for r in refunds or []),
        "currency": payment.currency,
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": {},
    }
    if refunds is not None:
        data = [refund_object(r) for r in reversed(refunds)]
        obj["refunds"] = {"object": "list", "data": data, "has_more": False}
    obj.update(overrides)
    return obj


# ---- the application under test ---------------------------------------------------------


@dataclass
class App:
    store: MemoryStore
    clock: FixedClock
    gateway: MemoryGateway
    settings: CheckoutSettings = field(default_factory=checkout_settings)

    # -- arranging

    async def user(self, email: str | None = None) -> str:
        created = await create_user(
            email or f"user-{secrets.token_hex(4)}@example.com",
            uow_factory=self.store.uow_factory,
            clock=self.clock,
        )
        return created.user.id

    async def customer(self, user_id: str) -> str:
        """The user's gateway customer, created at the gateway and stored, as on first use."""
        return await customer_of(
            user_id, uow_factory=self.store.uow_factory, gateway=self.gateway, clock=self.clock
        )

    async def checkout(
        self,
        user_id: str,
        amount: int | None = 1000,
        currency: str | None = "usd",
        *,
        package_id: str | None = None,
        key: str | None = None,
        description: str | None = None,
        success_url: str | None = None,
        cancel_url: str | None = None,
    ) -> CheckoutSessionCreated:
        order = Order(user_id, amount, currency, description, package_id, key)
        return await create_checkout_session(
            CreateCheckoutSession(order, success_url, cancel_url),
            uow_factory=self.store.uow_factory,
            gateway=self.gateway,
            clock=self.clock,
            settings=self.settings,
        )

    async def intent(
        self,
        user_id: str,
        amount: int | None = 1000,
        currency: str | None = "usd",
        *,
        package_id: str | None = None,
        key: str | None = None,
        description: str | None = None,
    ) -> PaymentIntentCreated:
        return await create_payment_intent(
            Order(user_id, amount, currency, description, package_id, key),
            uow_factory=self.store.uow_factory,
            gateway=self.gateway,
            clock=self.clock,
            pricing=self.settings.pricing,
            expires_in=self.settings.expires_in,
        )

    async def open_checkout(self, amount: int = 1000, currency: str = "usd") -> Payment:
        """A new user with one pending Checkout payment."""
        created = await self.checkout(await self.user(), amount, currency)
        return self.payment(created.payment_id)

    async def open_intent(self, amount: int = 1000, currency: str = "usd") -> Payment:
        """A new user with one pending PaymentIntent payment."""
        created = await self.intent(await self.user(), amount, currency)
        return self.payment(created.payment_id)

    # -- what happens at the gateway (events kept, never delivered)

    async def pay(self, payment: Payment, card: str = CARD_OK) -> list[GatewayEvent]:
        if payment.stripe_session_id is not None:
            outcome = await self.gateway.pay_checkout(payment.stripe_session_id, card, "never")
        else:
            assert payment.stripe_payment_intent_id is not None
            outcome = await self.gateway.confirm_payment_intent(
                payment.stripe_payment_intent_id, card, "never"
            )
        return events_of(outcome)

    async def expire(self, payment: Payment) -> list[GatewayEvent]:
        assert payment.stripe_session_id is not None
        return events_of(await self.gateway.expire_checkout_now(payment.stripe_session_id, "never"))

    async def refund_at_gateway(
        self, payment: Payment, amount: int
    ) -> tuple[GatewayRefund, list[GatewayEvent]]:
        """A refund made at the gateway (its dashboard): ``charge.refunded``, ``refund.created``."""
        assert payment.stripe_payment_intent_id is not None
        before = len(self.sandbox_store.kept_events())
        refund = await self.gateway.refund(
            RefundRequest(
                payment.id,
                payment.stripe_payment_intent_id,
                amount,
                None,
                f"dashboard:{secrets.token_hex(6)}",
            ),
            deliver="never",
        )
        return refund, self.kept_events()[before:]

    def kept_events(self) -> list[GatewayEvent]:
        """Every event the gateway produced so far, oldest first."""
        return [event.translate() for event in self.sandbox_store.kept_events()]

    # -- acting

    async def handle(self, event: GatewayEvent) -> EventOutcome:
        return await handle_gateway_event(
            event, uow_factory=self.store.uow_factory, gateway=self.gateway, clock=self.clock
        )

    async def handle_all(self, events: list[GatewayEvent]) -> list[EventOutcome]:
        return [await self.handle(event) for event in events]

    async def webhook(self, body: bytes, signature: str) -> int:
        """A webhook endpoint for the gateway's ``deliver``: 200, or 503 to be retried."""
        try:
            await receive_webhook(
                body,
                signature,
                gateway=self.gateway,
                uow_factory=self.store.uow_factory,
                clock=self.clock,
            )
        except EventNotReady:
            return 503
        return 200

    # -- reading committed state

    def payment(self, payment_id: str) -> Payment:
        return self.store.state.payments[payment_id]

    def balance(self, user_id: str) -> int:
        return self.store.state.accounts[user_id].balance

    def entries(self, user_id: str | None = None) -> list[LedgerEntry]:
        """Committed ledger entries (of one user), oldest first."""
        found = [e for e in self.store.state.entries.values() if user_id in (None, e.user_id)]
        return sorted(found, key=lambda e: e.id)

    def purchase_entries(self, payment_id: str) -> list[LedgerEntry]:
        return [
            e
            for e in self.store.state.entries.values()
            if e.kind is EntryKind.PURCHASE and e.reference_id == payment_id
        ]

    def outcome_of(self, event: GatewayEvent) -> str | None:
        """The outcome recorded for ``event``; None when it was not recorded at all."""
        recorded = self.store.state.events.get(event.event_id)
        return None if recorded is None else recorded.outcome

    async def mismatches(self) -> list[object]:
        async with self.store.uow() as uow:
            return list(await uow.audit.verify())

    @property
    def sandbox_store(self) -> MemorySandboxStore:
        """The fake gateway's own records."""
        store = self.gateway.store
        assert isinstance(store, MemorySandboxStore)
        return store

    def gateway_sessions(self) -> int:
        """How many Checkout Sessions exist at the gateway (the fake's own records)."""
        return len(self.sandbox_store.sessions())

    def gateway_intents(self) -> int:
        return len(self.sandbox_store.intents())


def make_app(deliver: Deliver | None = None) -> App:
    """A fresh app; outside fixtures for hypothesis, which runs many examples per test."""
    clock = FixedClock(T0)
    store = MemoryStore(follow_ups(PRICING))  # top-ups priced as in production
    return App(store, clock, MemoryGateway(clock.now, deliver=deliver))


@pytest.fixture
def app() -> App:
    return make_app()


@pytest.fixture
def wired_app() -> App:
    """An app whose gateway delivers its events to the webhook path before returning."""

    async def deliver(body: bytes, signature: str) -> int:
        return await wired.webhook(body, signature)

    wired = make_app(deliver)
    return wired


@pytest.fixture
def store(app: App) -> MemoryStore:
    return app.store


@pytest.fixture
def clock(app: App) -> FixedClock:
    return app.clock


@pytest.fixture
def gateway(app: App) -> MemoryGateway:
    return app.gateway
