"""/api/stripe: packages, Checkout Sessions, PaymentIntents, payments and refunds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application import queries
from application.accounts.users import Principal
from application.gateway import PaymentGateway
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.create_checkout_session import (
    CheckoutSettings,
    CreateCheckoutSession,
    create_checkout_session,
)
from application.purchases.create_payment_intent import create_payment_intent
from application.purchases.orders import Order
from application.purchases.sync_payment import sync_checkout_session, sync_payment_intent
from application.refunds.refund_payment import RefundPayment, refund_payment
from domain.redirects import RedirectPolicy
from entrypoints.http import schemas as s
from entrypoints.http.params import Cursor, IdempotencyKey, Limit, strict_body
from entrypoints.settings import Settings


def _order(
    principal: NamedDependency[Principal],
    data: JSONBody[s.PaymentIntentIn] | s.CheckoutSessionIn,
    key: str | None,
) -> Order:
    user = principal.require_user()
    return Order(user.id, data.amount, data.currency, data.description, data.package_id, key)


class StripeController(Controller):
    path = "/api/stripe"
    tags = ["payments"]

    @get("/credit-packages")
    async def credit_packages(self, settings: NamedDependency[Settings]) -> list[s.PackageOut]:
        return [s.PackageOut.of(p) for p in settings.pricing.packages]

    @post("/checkout-session", status_code=200)
    async def create_checkout(
        self,
        data: JSONBody[s.CheckoutSessionIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        gateway: NamedDependency[PaymentGateway],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> s.CheckoutSessionOut:
        data = await strict_body(request, s.CheckoutSessionIn)
        created = await create_checkout_session(
            CreateCheckoutSession(
                _order(principal, data, idempotency_key), data.success_url, data.cancel_url
            ),
            uow_factory=uow_factory,
            gateway=gateway,
            clock=clock,
            settings=CheckoutSettings(
                settings.pricing,
                RedirectPolicy(settings.frontend_url),
                timedelta(minutes=settings.checkout_expires_minutes),
            ),
        )
        return s.CheckoutSessionOut(
            created.session_id,
            created.url,
            created.payment_id,
            created.status,
            created.amount,
            created.currency,
            created.credits,
            created.expires_at,
        )

    @get("/checkout-session/{session_id:str}")
    async def get_checkout(
        self,
        session_id: FromPath[str],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        gateway: NamedDependency[PaymentGateway],
        clock: NamedDependency[Clock],
    ) -> s.CheckoutSessionDetailsOut:
        view = await sync_checkout_session(
            session_id,
            principal.require_user().id,
            uow_factory=uow_factory,
            gateway=gateway,
            clock=clock,
        )
        p = view.payment
        return s.CheckoutSessionDetailsOut(
            session_id=session_id,
            payment_id=p.id,
            status=p.status.value,
            gateway_status=view.gateway_status,
            payment_status="paid" if view.paid_at_gateway else "unpaid",
            amount=p.amount,
            currency=p.currency,
            credits=p.credits,
            url=p.checkout_url,
            expires_at=p.expires_at,
            payment=s.PaymentOut.of(p),
        )

    @post("/payment-intent", status_code=200)
    async def create_intent(
        self,
        data: JSONBody[s.PaymentIntentIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        gateway: NamedDependency[PaymentGateway],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> s.PaymentIntentOut:
        data = await strict_body(request, s.PaymentIntentIn)
        created = await create_payment_intent(
            _order(principal, data, idempotency_key),
            uow_factory=uow_factory,
            gateway=gateway,
            clock=clock,
            pricing=settings.pricing,
            expires_in=timedelta(minutes=settings.checkout_expires_minutes),
        )
        return s.PaymentIntentOut(
            created.payment_intent_id,
            created.client_secret,
            created.payment_id,
            created.status,
            created.amount,
            created.currency,
            created.credits,
        )

    @get("/payment-intent/{intent_id:str}")
    async def get_intent(
        self,
        intent_id: FromPath[str],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        gateway: NamedDependency[PaymentGateway],
        clock: NamedDependency[Clock],
    ) -> s.PaymentIntentDetailsOut:
        view = await sync_payment_intent(
            intent_id,
            principal.require_user().id,
            uow_factory=uow_factory,
            gateway=gateway,
            clock=clock,
        )
        p = view.payment
        return s.PaymentIntentDetailsOut(
            payment_intent_id=intent_id,
            payment_id=p.id,
            status=p.status.value,
            gateway_status=view.gateway_status,
            client_secret=view.client_secret,
            amount=p.amount,
            currency=p.currency,
            credits=p.credits,
            payment=s.PaymentOut.of(p),
        )

    @get("/payments")
    async def list_payments(
        self,
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.PaymentsPage:
        page = await queries.list_payments(
            principal.require_user().id, limit, cursor, uow_factory=uow_factory
        )
        return s.PaymentsPage([s.PaymentOut.of(p) for p in page.items], page.next_cursor)

    @get("/payments/{payment_id:str}")
    async def get_payment(
        self,
        payment_id: FromPath[str],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
    ) -> s.PaymentOut:
        user_id = principal.user.id if principal.user else None
        payment = await queries.get_payment(
            payment_id, user_id, principal.is_admin, uow_factory=uow_factory
        )
        return s.PaymentOut.of(payment)

    @post("/refund", status_code=200)
    async def refund(
        self,
        data: JSONBody[s.RefundIn],
        request: Request[Any, Any, Any],
        admin: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        gateway: NamedDependency[PaymentGateway],
        clock: NamedDependency[Clock],
    ) -> s.RefundOut:
        data = await strict_body(request, s.RefundIn)
        result = await refund_payment(
            RefundPayment(
                data.payment_id, data.payment_intent_id, data.amount, data.reason, idempotency_key
            ),
            uow_factory=uow_factory,
            gateway=gateway,
            clock=clock,
        )
        return s.RefundOut(
            result.refund_id,
            result.payment_id,
            result.amount,
            result.currency,
            result.status,
            result.credits_reversed,
        )
