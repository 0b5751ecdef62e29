"""The sandbox gateway's subscription calls: a base class of ``SandboxGateway``.

Every call is one transaction of the sandbox's store around the lifecycle function
(``adapters.sandbox.transact``), so subscriptions are shared by every process on the
database like the rest of the sandbox, and the events it produced are delivered after
the commit. Calls the service makes (change, cancel, resume) deliver at once; what the
customer or time does (pay the Checkout, renew, retry) takes ``deliver`` like the other
sandbox calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from adapters.sandbox import invoices, subscription_checkout
from adapters.sandbox import subscriptions as billing
from adapters.sandbox.cards import find_card
from adapters.sandbox.customer import CheckoutLapsed
from adapters.sandbox.records import CheckoutDetails, Outcome, SandboxEvent
from adapters.sandbox.state import SandboxState
from adapters.sandbox.transact import Operation
from adapters.sandbox.webhooks import DeliveryMode, Outbox
from application.subscriptions.gateway import (
    CustomerRequest,
    InvoiceRef,
    PlanChange,
    SubscriptionCheckoutCreated,
    SubscriptionCheckoutRequest,
)
from domain.subscription import SubscriptionSnapshot

T = TypeVar("T")


class SandboxSubscriptionGateway:
    _public_url: str
    _outbox: Outbox
    _subscription_events: list[SandboxEvent]

    async def _transact(
        self,
        operation: Operation[T],
        *,
        target: str | None = None,
        key: str | None = None,
        lock: bool = True,
    ) -> T: ...

    async def _act(
        self, target: str | None, operation: Operation[Outcome], deliver: DeliveryMode
    ) -> Outcome: ...

    async def _read(self, target: str, operation: Operation[T]) -> T: ...

    # ---- SubscriptionGateway ----------------------------------------------------------

    async def create_customer(self, request: CustomerRequest) -> str:
        return await self._transact(
            lambda state, _: subscription_checkout.create_customer(state, state.book, request),
            key=request.idempotency_key,
        )

    async def create_subscription_checkout(
        self, request: SubscriptionCheckoutRequest
    ) -> SubscriptionCheckoutCreated:
        session = await self._transact(
            lambda state, now: subscription_checkout.create_checkout(
                state, state.book, request, self._public_url, now
            ),
            target=request.customer_id,
            key=request.idempotency_key,
        )
        return SubscriptionCheckoutCreated(session.id, session.url, session.expires_at)

    async def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return await self._read(
            subscription_id,
            lambda state, _: billing.snapshot(state.book.subscription(subscription_id)),
        )

    async def invoice_payment_intent(self, invoice_id: str) -> str | None:
        return await self._read(
            invoice_id, lambda state, _: state.book.invoice(invoice_id).intent_id
        )

    async def invoice_of_payment(self, payment_intent_id: str) -> InvoiceRef | None:
        def paid_by(state: SandboxState, _: datetime) -> InvoiceRef | None:
            paid = (i for i in state.book.invoices.values() if i.intent_id == payment_intent_id)
            invoice = next(paid, None)
            if invoice is None:
                return None
            return InvoiceRef(invoice.id, invoice.subscription_id, invoice.customer_id)

        return await self._read(payment_intent_id, paid_by)

    async def change_subscription(self, change: PlanChange) -> SubscriptionSnapshot:
        answer, produced = await self._transact(
            lambda state, now: billing.change(state, state.book, change, now),
            target=change.subscription_id,
            key=change.idempotency_key or None,
        )
        return await self._delivered(answer, produced)

    async def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        answer, produced = await self._transact(
            lambda state, now: billing.cancel(
                state, state.book, subscription_id, at_period_end, idempotency_key, now
            ),
            target=subscription_id,
            key=idempotency_key or None,
        )
        return await self._delivered(answer, produced)

    async def resume_subscription(
        self, subscription_id: str, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        answer, produced = await self._transact(
            lambda state, now: billing.resume(
                state, state.book, subscription_id, idempotency_key, now
            ),
            target=subscription_id,
            key=idempotency_key or None,
        )
        return await self._delivered(answer, produced)

    # ---- what the customer, or time, does ---------------------------------------------

    async def subscription_checkout_details(self, session_id: str) -> CheckoutDetails:
        return await self._read(
            session_id,
            lambda state, _: subscription_checkout.details(state.book.session(session_id)),
        )

    async def pay_subscription_checkout(
        self, session_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        card = find_card(card_number)
        return await self._acted(
            session_id,
            lambda state, now: subscription_checkout.pay_checkout(
                state, state.book, session_id, card, now
            ),
            deliver,
        )

    async def renew_subscription(
        self, subscription_id: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """The current period ends now: renew (and charge) or end the subscription."""
        return await self._acted(
            subscription_id,
            lambda state, now: billing.renew(state, state.book, subscription_id, now),
            deliver,
        )

    async def retry_subscription_payment(
        self, subscription_id: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        return await self._acted(
            subscription_id,
            lambda state, now: billing.retry(state, state.book, subscription_id, now),
            deliver,
        )

    async def fail_next_renewal(self, subscription_id: str) -> Outcome:
        return await self._transact(
            lambda state, _: billing.fail_next_renewal(state.book, subscription_id),
            target=subscription_id,
        )

    async def refund_invoice(
        self, invoice_id: str, amount: int | None, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """Refund a paid invoice's payment (all of what is left by default)."""
        return await self._acted(
            invoice_id,
            lambda state, now: invoices.refund_invoice(state, state.book, invoice_id, amount, now),
            deliver,
        )

    def subscription_event_payloads(self) -> list[dict[str, Any]]:
        """The subscriptions' events produced in this process, oldest first (for tests;
        every event is kept in the store too, for every process to list)."""
        return [event.payload() for event in self._subscription_events]

    async def _acted(
        self, target: str, operation: Operation[Outcome], deliver: DeliveryMode
    ) -> Outcome:
        try:
            outcome = await self._act(target, operation, deliver)
        except CheckoutLapsed as lapsed:
            self._subscription_events.extend(lapsed.events)
            raise
        self._subscription_events.extend(outcome.events)
        return outcome

    async def _delivered(
        self, answer: SubscriptionSnapshot, produced: Iterable[SandboxEvent]
    ) -> SubscriptionSnapshot:
        produced = tuple(produced)
        self._subscription_events.extend(produced)
        await self._outbox.send(produced, "now")
        return answer
