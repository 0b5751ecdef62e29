"""Request and response bodies at the HTTP edge (msgspec Structs).

Requests forbid unknown fields: a client cannot slip ``credits``, ``user_id`` or
``metadata`` into a purchase (docs/failure-modes.md #6, 7). Money is formatted only here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.credits import CreditPackage, credits_as_usd
from domain.ledger import LedgerEntry
from domain.money import Money
from domain.payment import Payment
from entrypoints.http.request_base import Request
from entrypoints.http.reward_schemas import TrialOut

Amount = Annotated[int, msgspec.Meta(ge=1, le=99_999_999)]
Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]


class CheckoutSessionIn(Request):
    amount: Amount | None = None
    currency: Currency | None = None
    description: Text | None = None
    package_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    success_url: Url | None = None
    cancel_url: Url | None = None


class PaymentIntentIn(Request):
    amount: Amount | None = None
    currency: Currency | None = None
    description: Text | None = None
    package_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class RefundIn(Request):
    payment_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    payment_intent_id: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    amount: Amount | None = None
    reason: Text | None = None


class UserIn(Request):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    referred_by_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    is_admin: bool = False


class ApiKeyIn(Request):
    name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class CheckoutSessionOut(msgspec.Struct):
    session_id: str
    url: str
    payment_id: str
    status: str
    amount: int
    currency: str
    credits: int
    expires_at: datetime


class PaymentIntentOut(msgspec.Struct):
    payment_intent_id: str
    client_secret: str | None
    payment_id: str
    status: str
    amount: int
    currency: str
    credits: int


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
        return cls(
            p.id,
            p.name,
            p.credits,
            p.price.amount,
            p.price.currency,
            p.price.format(),
            p.discount_percentage,
            p.popular,
        )


class PaymentOut(msgspec.Struct):
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
    def of(cls, p: Payment) -> PaymentOut:
        return cls(
            p.id,
            p.user_id,
            p.kind.value,
            p.amount,
            p.currency,
            Money(p.amount, p.currency).format(),
            p.credits,
            p.status.value,
            p.description,
            p.package_id,
            p.stripe_session_id,
            p.stripe_payment_intent_id,
            p.created_at,
            p.completed_at,
            p.expires_at,
            p.amount_refunded,
            p.credits_reversed,
            p.failure_reason,
        )


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


class PaymentsPage(msgspec.Struct):
    payments: list[PaymentOut]
    next_cursor: str | None


class RefundOut(msgspec.Struct):
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    credits_reversed: int


class BalanceOut(msgspec.Struct):
    user_id: str
    credits: int
    balance_usd: str
    available_credits: int
    held_credits: int


class TransactionOut(msgspec.Struct):
    id: int
    credits: int
    kind: str
    reference_type: str
    reference_id: str
    balance_after: int
    created_at: datetime
    expires_at: datetime | None
    credits_usd: str

    @classmethod
    def of(cls, e: LedgerEntry) -> TransactionOut:
        return cls(
            e.id,
            e.credits,
            e.kind.value,
            e.reference_type,
            e.reference_id,
            e.balance_after,
            e.created_at,
            e.expires_at,
            credits_as_usd(e.credits),
        )


class TransactionsPage(msgspec.Struct):
    transactions: list[TransactionOut]
    next_cursor: str | None


class UserCreatedOut(msgspec.Struct):
    user_id: str
    email: str
    api_key: str
    referral_code: str | None
    is_admin: bool


class ProfileOut(msgspec.Struct):
    user_id: str
    email: str
    is_admin: bool
    referral_code: str | None
    referred_by: str | None
    created_at: datetime
    trial: TrialOut | None = None  # null: no trial (off, or the email had one)


class ApiKeyOut(msgspec.Struct):
    id: str
    prefix: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreatedOut(msgspec.Struct):
    id: str
    api_key: str
    prefix: str
    name: str | None
    created_at: datetime


class WebhookOut(msgspec.Struct):
    received: bool
    outcome: str
