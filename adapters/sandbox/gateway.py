"""``SandboxGateway``: a payment gateway that behaves like Stripe, inside the service.

The default gateway without a Stripe key: development and staging get real Checkout
URLs (a local test page), Stripe's test cards and Stripe-shaped, signed webhooks through
the same webhook path as Stripe's. Its state sits in a ``SandboxStore``: the service's
database (``sql_store``), so that every replica and ``creditline batch`` see one sandbox
that outlives restarts, or memory for unit tests. Each operation is one short
transaction of that store (``transact``), subscriptions (``SandboxSubscriptionGateway``)
included. It is a rehearsal tool, never a record of money.

Events are delivered *after* that transaction: the webhook path they trigger calls back
into the gateway (``list_refunds``, ``get_checkout``). A call that delivers runs the
webhook path before it returns, so it must not be made while holding a database
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from adapters.sandbox import card_setup, customer, merchant
from adapters.sandbox.card_setup import as_saved, card_of
from adapters.sandbox.cards import SandboxCard, find_card
from adapters.sandbox.customer import CheckoutLapsed
from adapters.sandbox.memory_store import MemorySandboxStore
from adapters.sandbox.records import CheckoutDetails, Outcome, SandboxEvent
from adapters.sandbox.saved_cards import charge_of, confirm_off_session
from adapters.sandbox.state import SandboxState
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.subscription_gateway import SandboxSubscriptionGateway
from adapters.sandbox.transact import Operation, transact
from adapters.sandbox.webhooks import Deliver, Delivery, DeliveryMode, Outbox, parse_signed_event
from application.auto_top_up.cards import SavedCard, SetupRequest, SetupSession
from application.auto_top_up.ports import ChargeOutcome, OffSessionCharge, OffSessionRequest
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

T = TypeVar("T")


class SandboxGateway(SandboxSubscriptionGateway):
    def __init__(
        self,
        webhook_secrets: Sequence[str],
        public_url: str,
        now: Callable[[], datetime],
        deliver: Deliver | None = None,
        store: SandboxStore | None = None,
    ) -> None:
        self.webhook_secrets = tuple(webhook_secrets)
        self.store: SandboxStore = store if store is not None else MemorySandboxStore()
        self._outbox = Outbox(deliver, self.webhook_secrets, now)
        self._subscription_events: list[SandboxEvent] = []  # this process's, for tests
        self._public_url = public_url.rstrip("/")
        self._now = now

    # ---- PaymentGateway -------------------------------------------------------------------

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        session = await self._transact(
            lambda state, now: state.create_checkout(request, now), key=request.idempotency_key
        )
        return CheckoutCreated(session.id, session.url, session.expires_at, session.intent_id)

    async def get_checkout(self, session_id: str) -> CheckoutState:
        return await self._read(session_id, lambda state, _: state.session(session_id).state())

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState:
        return await self._transact(
            lambda state, now: state.create_intent(request, now).state(),
            key=request.idempotency_key,
        )

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState:
        return await self._read(intent_id, lambda state, _: state.intent(intent_id).state())

    async def refund(
        self, request: RefundRequest, *, deliver: DeliveryMode = "now"
    ) -> GatewayRefund:
        """Emits ``charge.refunded`` and ``refund.created``, delivered before returning."""
        record, outcome = await self._transact(
            lambda state, now: merchant.refund(state, request, now),
            target=request.payment_intent_id,
            key=request.idempotency_key,
        )
        await self._outbox.send(outcome.events, deliver)
        return record.state()

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]:
        return await self._read(
            payment_intent_id,
            lambda state, _: [r.state() for r in state.intent(payment_intent_id).refunds],
        )

    def parse_event(self, payload: bytes, signature: str | None) -> GatewayEvent:
        return parse_signed_event(payload, signature, self.webhook_secrets, self._now())

    # ---- for batch jobs, as on Stripe ----------------------------------------------------

    async def expire_checkout(
        self, session_id: str, *, deliver: DeliveryMode = "now"
    ) -> CheckoutState:
        """Only an open session can be expired; a closed one raises ``GatewayRejected``."""
        await self._act(
            session_id, lambda state, now: merchant.expire(state, session_id, now), deliver
        )
        return await self._read(session_id, lambda state, _: state.session(session_id).state())

    async def cancel_payment_intent(
        self, intent_id: str, *, deliver: DeliveryMode = "now"
    ) -> PaymentIntentState:
        await self._act(
            intent_id, lambda state, now: merchant.cancel_intent(state, intent_id, now), deliver
        )
        return await self._read(intent_id, lambda state, _: state.intent(intent_id).state())

    async def list_events(self, created_after: datetime) -> list[GatewayEvent]:
        """Events created at or after ``created_after``, oldest first, as the Stripe adapter."""
        kept = await self._events(int(created_after.timestamp()))
        return [event.translate() for event in kept]

    # ---- saved cards (adapters.sandbox.card_setup), on the customers in the store --------

    async def save_card(self, customer_id: str, card_number: str) -> SandboxCard:
        """The customer's default payment method from now on (a completed setup)."""
        card = find_card(card_number)
        await self._transact(
            lambda state, _: card_setup.save_card(state, customer_id, card), target=customer_id
        )
        return card

    async def create_setup_session(self, request: SetupRequest) -> SetupSession:
        setup = await self._transact(
            lambda state, now: card_setup.create_setup(state, request, self._public_url, now),
            target=request.customer_id,
            key=request.idempotency_key,
        )
        return SetupSession(setup.id, setup.url)

    async def default_card(self, customer_id: str) -> SavedCard | None:
        card = await self._card_of(customer_id)
        return None if card is None else as_saved(card)

    async def remove_default_card(self, customer_id: str) -> None:
        await self._transact(
            lambda state, _: card_setup.remove_card(state, customer_id), target=customer_id
        )

    async def use_setup_payment_method(self, setup_intent_id: str, customer_id: str) -> str | None:
        """The sandbox's setup page already saved the card as the default; its id, if any."""
        card = await self._card_of(customer_id)
        return None if card is None else f"pm_sandbox_{card.number[-4:]}"

    async def charge_off_session(self, request: OffSessionRequest) -> OffSessionCharge:
        card = await self._card_of(request.customer_id)
        if card is None:
            return OffSessionCharge(ChargeOutcome.NO_PAYMENT_METHOD, error="no_payment_method")
        intent_id = (await self.create_payment_intent(request.as_intent())).intent_id
        await self._act(
            intent_id,
            lambda state, now: confirm_off_session(state, intent_id, card, now),
            "now",
        )
        return await self._read(intent_id, lambda state, _: charge_of(state, intent_id))

    async def _card_of(self, customer_id: str) -> SandboxCard | None:
        return await self._read(customer_id, lambda state, _: card_of(state, customer_id))

    # ---- what the customer does (the test page and the JSON API) --------------------------

    async def pay_checkout(
        self, session_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        kind = await self._checkout_kind(session_id)
        if kind == "subscription":
            return await self.pay_subscription_checkout(session_id, card_number, deliver)
        card = find_card(card_number)
        if kind == "setup":
            return await self._transact(
                lambda state, _: card_setup.complete_setup(state, session_id, card),
                target=session_id,
            )
        return await self._act(
            session_id,
            lambda state, now: customer.pay_checkout(state, session_id, card, now),
            deliver,
        )

    async def confirm_payment_intent(
        self, intent_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        card = find_card(card_number)
        return await self._act(
            intent_id,
            lambda state, now: customer.confirm_intent(state, intent_id, card, now),
            deliver,
        )

    async def authenticate(
        self, session_or_intent_id: str, succeed: bool, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """Complete (or fail) the 3-D Secure step a ``4000 0025 0000 3155`` card asked for."""
        return await self._act(
            session_or_intent_id,
            lambda state, now: customer.authenticate(state, session_or_intent_id, succeed, now),
            deliver,
        )

    async def expire_checkout_now(self, session_id: str, deliver: DeliveryMode = "now") -> Outcome:
        """The session runs out of time, as if its ``expires_at`` had passed."""
        return await self._act(
            session_id, lambda state, now: merchant.expire(state, session_id, now), deliver
        )

    async def checkout_details(self, session_id: str) -> CheckoutDetails:
        kind = await self._checkout_kind(session_id)
        if kind == "subscription":
            return await self.subscription_checkout_details(session_id)
        if kind == "setup":
            return await self._read(
                session_id, lambda state, _: state.book.setup(session_id).details()
            )
        return await self._read(session_id, lambda state, _: state.details(session_id))

    async def _checkout_kind(self, session_id: str) -> str:
        """``subscription``, ``setup`` or ``payment`` (the mode of the session)."""

        def kind(state: SandboxState, _: datetime) -> str:
            if session_id in state.book.sessions:
                return "subscription"
            return "setup" if session_id in state.book.setups else "payment"

        return await self._read(session_id, kind)

    # ---- for tests and scripts -------------------------------------------------------------

    async def event_payloads(self) -> list[dict[str, Any]]:
        """Every event produced so far, delivered or not, oldest first."""
        return [event.payload() for event in await self._events(0)]

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        """The deliveries this process made (delivery stays in the process that acted)."""
        return tuple(self._outbox.deliveries)

    @property
    def failed_deliveries(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self._outbox.deliveries if not d.ok)

    async def redeliver(self, event_id: str) -> int:
        """Send a kept event again (Stripe's retry or "resend"), freshly signed."""
        event = await self.store.event(event_id)
        if event is None:
            raise NotFound(f"no such event: {event_id}")
        return await self._outbox.send_one(event)

    def sign(self, payload: bytes) -> str:
        """A ``Stripe-Signature`` header for ``payload``, as a delivery would carry."""
        return self._outbox.sign(payload)

    async def _act(
        self, target: str | None, operation: Operation[Outcome], deliver: DeliveryMode
    ) -> Outcome:
        try:
            outcome = await self._transact(operation, target=target)
        except CheckoutLapsed as lapsed:
            await self._outbox.send(lapsed.events, deliver)
            raise
        await self._outbox.send(outcome.events, deliver)
        return outcome

    async def _events(self, created_from: int) -> list[SandboxEvent]:
        return await self.store.events(created_from)

    async def _read(self, target: str, operation: Operation[T]) -> T:
        return await self._transact(operation, target=target, lock=False)

    async def _transact(
        self,
        operation: Operation[T],
        *,
        target: str | None = None,
        key: str | None = None,
        lock: bool = True,
    ) -> T:
        return await transact(
            self.store, self._public_url, operation, self._now, target=target, key=key, lock=lock
        )
