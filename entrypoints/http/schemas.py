"""Request bodies, and the responses whose JSON differs from the application's result.

A purchase's or refund's result is returned as the application's own dataclass; a
schema here formats money (``"10.00"``), renames or flattens fields, or keeps an
entity's internals (client keys, fingerprints) out of the API. Money is formatted only
here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.ports import Page
from application.purchases.sync_payment import PaymentView
from domain.credits import CreditPackage
from domain.payment import Payment
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody

Amount = Annotated[int, msgspec.Meta(ge=1, le=99_999_999)]
Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
PackageId = Annotated[str, msgspec.Meta(max_length=100)]


class CheckoutSessionIn(RequestBody):
    amount: Amount | None = None
    currency: Currency | None = None
    description: Text | None = None
    package_id: PackageId | None = None
    success_url: Url | None = None
    cancel_url: Url | None = None


class PaymentIntentIn(RequestBody):
    amount: Amount | None = None
    currency: Currency | None = None
    description: Text | None = None
    package_id: PackageId | None = None


class RefundIn(RequestBody):
    payment_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    payment_intent_id: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    amount: Amount | None = None
    reason: Text | None = None


class PackageOut(msgspec.Struct):
    id: str
    name: str
    credits: int
    amount: int
    currency: str
    amount_display: str
    discount_percentage: int
    popular: bool

    @classmethod
    def of(cls, p: CreditPackage) -> PackageOut:
        price = p.price
        return convert(
            p, cls, amount=price.amount, currency=price.currency, amount_display=price.format()
        )


class PaymentOut(msgspec.Struct):
    """A payment as its owner sees it: no client key, fingerprint or checkout URL."""

    id: str
    user_id: str
    kind: str
    amount: int
    currency: str
    amount_display: str
    credits: int
    status: str
    description: str | None
    package_id: str | None
    stripe_session_id: str | None
    stripe_payment_intent_id: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    amount_refunded: int
    credits_reversed: int
    failure_reason: str | None

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return convert(payment, cls, amount_display=payment.price.format())


class PaymentsPage(msgspec.Struct):
    payments: list[PaymentOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Payment]) -> PaymentsPage:
        return cls([PaymentOut.of(p) for p in page.items], page.next_cursor)


class CheckoutSessionDetailsOut(msgspec.Struct):
    session_id: str
    payment_id: str
    status: str
    gateway_status: str
    payment_status: str
    amount: int
    currency: str
    credits: int
    url: str | None
    expires_at: datetime | None
    payment: PaymentOut

    @classmethod
    def of(cls, session_id: str, view: PaymentView) -> CheckoutSessionDetailsOut:
        p = view.payment
        return cls(
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
            payment=PaymentOut.of(p),
        )


class PaymentIntentDetailsOut(msgspec.Struct):
    payment_intent_id: str
    payment_id: str
    status: str
    gateway_status: str
    client_secret: str | None
    amount: int
    currency: str
    credits: int
    payment: PaymentOut

    @classmethod
    def of(cls, intent_id: str, view: PaymentView) -> PaymentIntentDetailsOut:
        p = view.payment
        return cls(
            payment_intent_id=intent_id,
            payment_id=p.id,
            status=p.status.value,
            gateway_status=view.gateway_status,
            client_secret=view.client_secret,
            amount=p.amount,
            currency=p.currency,
            credits=p.credits,
            payment=PaymentOut.of(p),
        )


class WebhookOut(msgspec.Struct):
    received: bool
    outcome: str
