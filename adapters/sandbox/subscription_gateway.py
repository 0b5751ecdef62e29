"""The sandbox gateway's subscription calls: a base class of ``SandboxGateway``.

Every call takes the gateway's lock around the lifecycle function and delivers the
events it produced after releasing it, as the rest of the sandbox does. Calls the
service makes (change, cancel, resume) deliver at once; what the customer or time does
(pay the Checkout, renew, retry) takes ``deliver`` like the other sandbox calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from adapters.sandbox import invoices, subscription_checkout
from adapters.sandbox import subscriptions as billing
from adapters.sandbox.cards import find_card
from adapters.sandbox.records import CheckoutDetails, Outcome, SandboxEvent
from adapters.sandbox.state import SandboxState
from adapters.sandbox.subscription_records import SubscriptionBook
from adapters.sandbox.webhooks import DeliveryMode, Outbox
from application.subscriptions.gateway import (
    CustomerRequest,
    InvoiceRef,
    PlanChange,
    SubscriptionCheckoutCreated,
    SubscriptionCheckoutRequest,
)
from domain.subscription import SubscriptionSnapshot


class SandboxSubscriptionGateway:
    _lock: asyncio.Lock
    _state: SandboxState
    _book: SubscriptionBook
    _public_url: str
    _outbox: Outbox
    _now: Callable[[], datetime]

    async def _run(
        self, action: Callable[[datetime], Outcome], deliver: DeliveryMode
    ) -> Outcome: ...

    # ---- SubscriptionGateway ----------------------------------------------------------

    async def create_customer(self, request: CustomerRequest) -> str:
        async with self._lock:
            return subscription_checkout.create_customer(self._state, self._book, request)

    async def create_subscription_checkout(
        self, request: SubscriptionCheckoutRequest
    ) -> SubscriptionCheckoutCreated:
        async with self._lock:
            session = subscription_checkout.create_checkout(
                self._state, self._book, request, self._public_url, self._now()
            )
        return SubscriptionCheckoutCreated(session.id, session.url, session.expires_at)

    async def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        async with self._lock:
            return billing.snapshot(self._book.subscription(subscription_id))

    async def invoice_payment_intent(self, invoice_id: str) -> str | None:
        async with self._lock:
            return self._book.invoice(invoice_id).intent_id

    async def invoice_of_payment(self, payment_intent_id: str) -> InvoiceRef | None:
        async with self._lock:
            paid = (i for i in self._book.invoices.values() if i.intent_id == payment_intent_id)
            invoice = next(paid, None)
        if invoice is None:
            return None
        return InvoiceRef(invoice.id, invoice.subscription_id, invoice.customer_id)

    async def change_subscription(self, change: PlanChange) -> SubscriptionSnapshot:
        async with self._lock:
            answer, produced = billing.change(self._state, self._book, change, self._now())
        return await self._delivered(answer, produced)

    async def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        async with self._lock:
            answer, produced = billing.cancel(
                self._state,
                self._book,
                subscription_id,
                at_period_end,
                idempotency_key,
                self._now(),
            )
        return await self._delivered(answer, produced)

    async def resume_subscription(
        self, subscription_id: str, idempotency_key: str | None
    ) -> SubscriptionSnapshot:
        async with self._lock:
            answer, produced = billing.resume(
                self._state, self._book, subscription_id, idempotency_key, self._now()
            )
        return await self._delivered(answer, produced)

    # ---- what the customer, or time, does ---------------------------------------------

    def is_subscription_checkout(self, session_id: str) -> bool:
        return session_id in self._book.sessions

    async def subscription_checkout_details(self, session_id: str) -> CheckoutDetails:
        async with self._lock:
            return subscription_checkout.details(self._book.session(session_id))

    async def pay_subscription_checkout(
        self, session_id: str, card_number: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        card = find_card(card_number)
        action = partial(
            subscription_checkout.pay_checkout, self._state, self._book, session_id, card
        )
        return await self._run(action, deliver)

    async def renew_subscription(
        self, subscription_id: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """The current period ends now: renew (and charge) or end the subscription."""
        action = partial(billing.renew, self._state, self._book, subscription_id)
        return await self._run(action, deliver)

    async def retry_subscription_payment(
        self, subscription_id: str, deliver: DeliveryMode = "now"
    ) -> Outcome:
        action = partial(billing.retry, self._state, self._book, subscription_id)
        return await self._run(action, deliver)

    async def fail_next_renewal(self, subscription_id: str) -> Outcome:
        async with self._lock:
            return billing.fail_next_renewal(self._book, subscription_id)

    async def _delivered(
        self, answer: SubscriptionSnapshot, produced: Iterable[SandboxEvent]
    ) -> SubscriptionSnapshot:
        await self._outbox.send(produced, "now")
        return answer

    async def refund_invoice(
        self, invoice_id: str, amount: int | None, deliver: DeliveryMode = "now"
    ) -> Outcome:
        """Refund a paid invoice's payment (all of what is left by default)."""
        action = partial(invoices.refund_invoice, self._state, self._book, invoice_id, amount)
        return await self._run(action, deliver)
