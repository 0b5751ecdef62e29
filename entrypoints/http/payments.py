"""/api/stripe: packages, Checkout Sessions, PaymentIntents, payments and refunds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.accounts.users import Principal
from application.ports import Page
from application.purchases.create_checkout_session import (
    CheckoutSessionCreated,
    CreateCheckoutSession,
)
from application.purchases.create_payment_intent import PaymentIntentCreated
from application.purchases.orders import Order
from application.purchases.sync_payment import PaymentView
from application.refunds.refund_payment import RefundPayment, RefundResult
from domain.credits import CreditPackage
from domain.payment import Payment
from entrypoints.http import schemas as s
from entrypoints.http.auth import requires_admin
from entrypoints.http.openapi import errors
from entrypoints.http.params import Cursor, IdempotencyKey, Limit, UseCase, strict_body


def _order(
    principal: Principal, data: s.PaymentIntentIn | s.CheckoutSessionIn, key: str | None
) -> Order:
    user = principal.require_user()
    return Order(user.id, data.amount, data.currency, data.description, data.package_id, key)


class StripeController(Controller):
    path = "/api/stripe"
    tags = ["payments"]

    @get("/credit-packages")
    async def credit_packages(
        self, credit_packages: NamedDependency[Sequence[CreditPackage]]
    ) -> list[s.PackageOut]:
        return [s.PackageOut.of(p) for p in credit_packages]

    @post("/checkout-session", status_code=200, responses=errors(404, 422))
    async def create_checkout(
        self,
        data: JSONBody[s.CheckoutSessionIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        create_checkout_session: NamedDependency[UseCase[CheckoutSessionCreated]],
    ) -> CheckoutSessionCreated:
        data = await strict_body(request, s.CheckoutSessionIn)
        order = _order(principal, data, idempotency_key)
        return await create_checkout_session(
            CreateCheckoutSession(order, data.success_url, data.cancel_url)
        )

    @get("/checkout-session/{session_id:str}")
    async def get_checkout(
        self,
        session_id: FromPath[str],
        principal: NamedDependency[Principal],
        sync_checkout_session: NamedDependency[UseCase[PaymentView]],
    ) -> s.CheckoutSessionDetailsOut:
        view = await sync_checkout_session(session_id, principal.require_user().id)
        return s.CheckoutSessionDetailsOut.of(session_id, view)

    @post("/payment-intent", status_code=200, responses=errors(404, 422))
    async def create_intent(
        self,
        data: JSONBody[s.PaymentIntentIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        create_payment_intent: NamedDependency[UseCase[PaymentIntentCreated]],
    ) -> PaymentIntentCreated:
        data = await strict_body(request, s.PaymentIntentIn)
        return await create_payment_intent(_order(principal, data, idempotency_key))

    @get("/payment-intent/{intent_id:str}")
    async def get_intent(
        self,
        intent_id: FromPath[str],
        principal: NamedDependency[Principal],
        sync_payment_intent: NamedDependency[UseCase[PaymentView]],
    ) -> s.PaymentIntentDetailsOut:
        view = await sync_payment_intent(intent_id, principal.require_user().id)
        return s.PaymentIntentDetailsOut.of(intent_id, view)

    @get("/payments")
    async def list_payments(
        self,
        principal: NamedDependency[Principal],
        list_payments: NamedDependency[UseCase[Page[Payment]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.PaymentsPage:
        return s.PaymentsPage.of(await list_payments(principal.require_user().id, limit, cursor))

    @get("/payments/{payment_id:str}")
    async def get_payment(
        self,
        payment_id: FromPath[str],
        principal: NamedDependency[Principal],
        get_payment: NamedDependency[UseCase[Payment]],
    ) -> s.PaymentOut:
        user_id = principal.user.id if principal.user else None
        return s.PaymentOut.of(await get_payment(payment_id, user_id, principal.is_admin))

    @post("/refund", status_code=200, guards=[requires_admin], responses=errors(404, 422))
    async def refund(
        self,
        data: JSONBody[s.RefundIn],
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey,
        refund_payment: NamedDependency[UseCase[RefundResult]],
    ) -> RefundResult:
        data = await strict_body(request, s.RefundIn)
        return await refund_payment(
            RefundPayment(
                data.payment_id, data.payment_intent_id, data.amount, data.reason, idempotency_key
            )
        )
