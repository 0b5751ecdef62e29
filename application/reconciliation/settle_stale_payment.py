"""Settle one stale payment: ask the gateway, then fulfil it or close it at both ends.

The gateway is asked first and acted on outside any transaction; the payment then
changes in one short transaction through ``apply_gateway_state`` (the polls' path,
which grants through ``fulfil``). A gateway that answers "already expired" or
"already complete" to a close is asked again and believed. A complete but unpaid
Checkout (a delayed payment method) is settled by its PaymentIntent.
"""

from __future__ import annotations

import enum

from application.ports import Clock, UnitOfWorkFactory
from application.purchases.gateway import (
    CheckoutState,
    CheckoutStatus,
    IntentStatus,
    PaymentIntentState,
    PurchaseGateway,
)
from application.purchases.sync_payment import apply_gateway_state
from domain.errors import DomainError, GatewayRejected
from domain.payment import Payment, PaymentKind, PaymentStatus

SOURCE = "expire-sessions"
_CANCELABLE = frozenset(
    {
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        IntentStatus.REQUIRES_CONFIRMATION,
        IntentStatus.REQUIRES_ACTION,
    }
)
NEVER_CREATED = "abandoned"  # Stripe's cancellation reason for an unused intent
# A complete session's intent in these has failed for good (the debit bounced, or it was
# canceled); in any other it is still settling (processing, or awaiting micro-deposits).
_DELAYED_FAILED = frozenset({IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.CANCELED})
DELAYED_PAYMENT_FAILED = "payment_failed"


class Settled(enum.StrEnum):
    FULFILLED = "fulfilled"  # paid at the gateway: the lost webhook, recovered
    EXPIRED = "expired"
    CANCELED = "canceled"
    WAITING = "waiting"  # the gateway is still processing a payment: ask again later


class AmountMismatch(DomainError):
    """Paid at the gateway, but not the amount we asked: a human must look."""

    code = "amount_mismatch"


class StalePaymentSettler:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: PurchaseGateway, clock: Clock):
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._clock = clock

    async def settle(self, payment: Payment) -> Settled:
        if payment.kind is PaymentKind.CHECKOUT:
            return await self._settle_checkout(payment)
        return await self._settle_intent(payment)

    async def _settle_checkout(self, payment: Payment) -> Settled:
        session_id = payment.stripe_session_id
        if session_id is None:
            # The create call never answered and the customer never had a URL.
            return await self._close(payment, None)
        state = await self._gateway.get_checkout(session_id)
        if state.status is CheckoutStatus.OPEN and not state.paid:
            try:
                state = await self._gateway.expire_checkout(session_id)
            except GatewayRejected:  # paid or expired since we asked: ask again
                state = await self._gateway.get_checkout(session_id)
        return await self._apply_checkout(payment, state)

    async def _apply_checkout(self, payment: Payment, state: CheckoutState) -> Settled:
        if state.paid:
            return await self._fulfil(
                payment, state.amount, state.currency, state.payment_intent_id
            )
        if state.status is CheckoutStatus.EXPIRED:
            return await self._close(payment, None, state.payment_intent_id)
        if state.status is CheckoutStatus.COMPLETE and state.payment_intent_id:
            return await self._settle_delayed(payment, state.payment_intent_id)
        raise GatewayRejected(f"checkout session {state.session_id} is still open")

    async def _settle_delayed(self, payment: Payment, intent_id: str) -> Settled:
        """A complete, unpaid session: its delayed payment method is still processing
        (wait), or it failed, and a complete session never takes another payment: close."""
        intent = await self._gateway.get_payment_intent(intent_id)
        if intent.status not in _DELAYED_FAILED:  # a success shows on the session next run
            return Settled.WAITING
        reason = intent.failure_reason or DELAYED_PAYMENT_FAILED
        return await self._close(payment, reason, intent_id)

    async def _settle_intent(self, payment: Payment) -> Settled:
        intent_id = payment.stripe_payment_intent_id
        if intent_id is None:
            return await self._close(payment, NEVER_CREATED)
        intent = await self._gateway.get_payment_intent(intent_id)
        if intent.status in _CANCELABLE:
            try:
                intent = await self._gateway.cancel_payment_intent(intent_id)
            except GatewayRejected:  # it moved on (succeeded, processing): ask again
                intent = await self._gateway.get_payment_intent(intent_id)
        return await self._apply_intent(payment, intent)

    async def _apply_intent(self, payment: Payment, intent: PaymentIntentState) -> Settled:
        if intent.status is IntentStatus.SUCCEEDED:
            return await self._fulfil(
                payment, intent.amount_received, intent.currency, intent.intent_id
            )
        if intent.status is IntentStatus.CANCELED:
            reason = intent.failure_reason or NEVER_CREATED
            return await self._close(payment, reason, intent.intent_id)
        return Settled.WAITING

    async def _fulfil(
        self, payment: Payment, amount: int | None, currency: str | None, intent_id: str | None
    ) -> Settled:
        after = await apply_gateway_state(
            self._uow_factory,
            payment.id,
            self._clock.now(),
            paid=True,
            amount=amount,
            currency=currency,
            intent_id=intent_id,
            source=SOURCE,
        )
        if not after.is_paid:
            raise AmountMismatch(
                f"gateway reports {amount} {currency}, payment is {after.amount} {after.currency}"
            )
        return Settled.FULFILLED

    async def _close(
        self, payment: Payment, cancel_reason: str | None, intent_id: str | None = None
    ) -> Settled:
        after = await apply_gateway_state(
            self._uow_factory,
            payment.id,
            self._clock.now(),
            paid=False,
            amount=None,
            currency=None,
            intent_id=intent_id,
            source=SOURCE,
            cancel_reason=cancel_reason,
        )
        if after.is_paid:  # a webhook won the race: the customer did pay
            return Settled.FULFILLED
        return Settled.CANCELED if after.status is PaymentStatus.CANCELED else Settled.EXPIRED
