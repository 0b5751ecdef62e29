"""``SandboxGateway``: a payment gateway that behaves like Stripe, inside the process.

The default gateway without a Stripe key: development and staging get real Checkout
URLs (a local test page), Stripe's test cards and Stripe-shaped, signed webhooks through
the same webhook path as Stripe's. State lives in process memory behind one lock and is
lost on restart, so it is a rehearsal tool, never a record of money.

Events are delivered *outside* the lock: the webhook path they trigger calls back into
the gateway (``list_refunds``, ``get_checkout``). A call that delivers runs the webhook
path before it returns, so it must not be made while holding a database transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from adapters.sandbox import customer, merchant
from adapters.sandbox.cards import find_card
from adapters.sandbox.customer import CheckoutLapsed
from adapters.sandbox.records import CheckoutDetails, Outcome
from adapters.sandbox.state import SandboxState
from adapters.sandbox.subscription_gateway import SandboxSubscriptionGateway
from adapters.sandbox.subscription_records import SubscriptionBook
from adapters.sandbox.webhooks import Deliver, Delivery, DeliveryMode, Outbox, parse_signed_event
from application.purchases.gateway import (
    CheckoutCreated,
    CheckoutRequest,
    CheckoutState,
    PaymentIntentRequest,
    PaymentIntentState,
)
from application.refunds.gateway import GatewayRefund, RefundRequest
from application.webhooks.events import GatewayEvent
from domain.errors import NotFound


class SandboxGateway(SandboxSubscriptionGateway):
    def __init__(
        self,
        webhook_secrets: Sequence[str],
        public_url: str,
        now: Callable[[], datetime],
        deliver: Deliver | None = None,
    ) -> None:
        self.webhook_secrets = tuple(webhook_secrets)
        self._outbox = Outbox(deliver, self.webhook_secrets, now)
        self._state = SandboxState(public_url)
        self._book = SubscriptionBook()  # subscriptions: adapters.sandbox.subscriptions
        self._public_url = public_url.rstrip("/")
        self._now = now
        self._lock = asyncio.Lock()

    # ---- PaymentGateway -------------------------------------------------------------------

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        async with self._lock:
            session = self._state.create_checkout(request, self._now())
        return CheckoutCreated(session.id, session.url, session.expires_at, session.intent_id)

    async def get_checkout(self, session_id: str) -> CheckoutState:
        async with self._lock:
            return self._state.session(session_id).state()

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState:
        async with self._lock:
            return self._state.create_intent(request, self._now()).state()

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState:
        async with self._lock:
            return self._state.intent(intent_id).state()

    async def refund(
        self, request: RefundRequest, *, deliver: DeliveryMode = "now"
    ) -> GatewayRefund:
        """Emits ``charge.refunded`` and ``refund.created``, delivered before returning."""
        async with self._lock:
            record, outcome = merchant.refund(self._state, request, self._now())
        await self._outbox.send(outcome.events, deliver)
        return record.state()

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]:
        async with self._lock:
            return [r.state() for r in self._state.intent(payment_intent_id).refunds]

    def parse_event(self, payload: bytes, signature: str | None) -> GatewayEvent:
        return parse_signed_event(payload, signature, self.webhook_secrets, self._now())

    # ---- for batch jobs, as on Stripe ----------------------------------------------------

    async def expire_checkout(
        self, session_id: str, *, deliver: DeliveryMode = "now"
    ) -> CheckoutState:
        """Only an open session can be expired; a closed one raises ``GatewayRejected``."""
        await self._run(partial(merchant.expire, self._state, session_id), deliver)
        async with self._lock:
            return self._state.session(session_id).state()

    async def cancel_payment_intent(
        self, intent_id: str, *, deliver: DeliveryMode = "now"
    ) -> PaymentIntentState:
        await self._run(partial(merchant.cancel_intent, self._state, intent_id), deliver)
        async with self._lock:
            return self._state.intent(intent_id).state()

    async def list_events(self, created_after: datetime) -> list[GatewayEvent]:
        """Events created at or after ``created_after``, oldest first, as the Stripe adapter."""
        since = int(created_after.timestamp())
        async with self._lock:
            kept = [event for event in self._state.events if event.created >= since]
        return [event.translate() for event in kept]

    # ---- what the customer does (the test page and the JSON API) --------------------------

    async def pay_checkout(
        self, session_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        if self.is_subscription_checkout(session_id):
            return await self.pay_subscription_checkout(session_id, card_number, deliver)
        card = find_card(card_number)
        return await self._run(
            partial(customer.pay_checkout, self._state, session_id, card), deliver
        )

    async def confirm_payment_intent(
        self, intent_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        card = find_card(card_number)
        return await self._run(
            partial(customer.confirm_intent, self._state, intent_id, card), deliver
        )

    async def authenticate(
        self, session_or_intent_id: str, succeed: bool, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """Complete (or fail) the 3-D Secure step a ``4000 0025 0000 3155`` card asked for."""
        action = partial(customer.authenticate, self._state, session_or_intent_id, succeed)
        return await self._run(action, deliver)

    async def expire_checkout_now(self, session_id: str, deliver: DeliveryMode = "now") -> Outcome:
        """The session runs out of time, as if its ``expires_at`` had passed."""
        return await self._run(partial(merchant.expire, self._state, session_id), deliver)

    async def checkout_details(self, session_id: str) -> CheckoutDetails:
        if self.is_subscription_checkout(session_id):
            return await self.subscription_checkout_details(session_id)
        async with self._lock:
            return self._state.details(session_id)

    # ---- for tests and scripts -------------------------------------------------------------

    def event_payloads(self) -> list[dict[str, Any]]:
        """Every event produced so far, delivered or not, oldest first."""
        return [event.payload() for event in self._state.events]

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        return tuple(self._outbox.deliveries)

    @property
    def failed_deliveries(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self._outbox.deliveries if not d.ok)

    async def redeliver(self, event_id: str) -> int:
        """Send a kept event again (Stripe's retry or "resend"), freshly signed."""
        async with self._lock:
            event = next((e for e in self._state.events if e.id == event_id), None)
        if event is None:
            raise NotFound(f"no such event: {event_id}")
        return await self._outbox.send_one(event)

    def sign(self, payload: bytes) -> str:
        """A ``Stripe-Signature`` header for ``payload``, as a delivery would carry."""
        return self._outbox.sign(payload)

    async def _run(self, action: Callable[[datetime], Outcome], deliver: DeliveryMode) -> Outcome:
        try:
            async with self._lock:
                outcome = action(self._now())
        except CheckoutLapsed as lapsed:
            await self._outbox.send(lapsed.events, deliver)
            raise
        await self._outbox.send(outcome.events, deliver)
        return outcome
