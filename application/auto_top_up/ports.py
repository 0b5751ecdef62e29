"""Auto top-up settings and requests (``uow.auto_top_ups``), the gateway's off-session
charge of a saved card, and what the worker needs besides (``AutoTopUpGateway``,
``TopUpTerms``)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from application.purchases.gateway import CheckoutGateway, IntentGateway, PaymentIntentRequest
from domain.auto_top_up import AutoTopUp, AutoTopUpSettings
from domain.credits import PricingPolicy
from domain.redirects import RedirectPolicy


class AutoTopUpRepository(Protocol):
    async def settings(
        self, user_id: str, *, for_update: bool = False
    ) -> AutoTopUpSettings | None: ...

    async def save_settings(
        self, user_id: str, settings: AutoTopUpSettings, now: datetime
    ) -> None: ...

    async def request(self, top_up: AutoTopUp, monthly_limit: int, since: datetime) -> bool:
        """Store ``top_up`` unless the user has one in flight (requested, or waiting for
        the user to authenticate) or it would take this month's top-ups (in flight or
        succeeded, since ``since``) over ``monthly_limit``: one statement, the database
        deciding both."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[AutoTopUp]:
        """Up to ``limit`` requested top-ups due by ``now``, each leased until
        ``lease_until`` (SKIP LOCKED on PostgreSQL: parallel workers take disjoint rows)."""
        ...

    async def get(self, top_up_id: str, *, for_update: bool = False) -> AutoTopUp | None: ...

    async def by_checkout_payment(
        self, payment_id: str, *, for_update: bool = False
    ) -> AutoTopUp | None:
        """The top-up whose authentication Checkout is payment ``payment_id``."""
        ...

    async def save(self, top_up: AutoTopUp) -> None: ...

    async def since(self, user_id: str, since: datetime) -> Sequence[AutoTopUp]:
        """The user's top-ups created since ``since``, oldest first."""
        ...


class ChargeOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    AUTHENTICATION_REQUIRED = "authentication_required"
    DECLINED = "declined"
    NO_PAYMENT_METHOD = "no_payment_method"


@dataclass(frozen=True, slots=True)
class OffSessionRequest:
    payment_id: str
    user_id: str
    customer_id: str
    amount: int
    currency: str
    credits: int
    description: str
    idempotency_key: str

    def as_intent(self) -> PaymentIntentRequest:
        return PaymentIntentRequest(
            payment_id=self.payment_id,
            user_id=self.user_id,
            amount=self.amount,
            currency=self.currency,
            credits=self.credits,
            description=self.description,
            idempotency_key=self.idempotency_key,
        )


@dataclass(frozen=True, slots=True)
class OffSessionCharge:
    outcome: ChargeOutcome
    intent_id: str | None = None
    error: str | None = None


class OffSessionGateway(Protocol):
    async def charge_off_session(self, request: OffSessionRequest) -> OffSessionCharge:
        """Create and confirm a PaymentIntent with the customer's default payment method."""
        ...


class AutoTopUpGateway(OffSessionGateway, CheckoutGateway, IntentGateway, Protocol):
    """The charge, and when the bank wants the user: cancel it, open a Checkout instead."""


@dataclass(frozen=True, slots=True)
class TopUpTerms:
    """Prices as for any purchase; the authentication Checkout returns the user to the
    frontend's ``/payment/success`` or ``/payment/cancel``, as a purchase's does."""

    pricing: PricingPolicy
    expires_in: timedelta
    redirects: RedirectPolicy
