"""Opening a payment: pricing on the server, and the client's Idempotency-Key.

Both purchase flows (Checkout and PaymentIntents) open a payment here. The payment
row is written *before* the gateway is called and carries the client's key, so a
retried request finds it and resumes, and the gateway call reuses an idempotency
key derived from our payment id: one payment and one gateway object per key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ids import new_id
from application.ports import UnitOfWorkFactory
from domain.credits import PricingPolicy
from domain.errors import IdempotencyKeyReused, ValidationFailed
from domain.payment import Payment, PaymentKind, PaymentStatus

MAX_CLIENT_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Order:
    """What a user asked to buy; credits are never part of it (docs/failure-modes.md #7)."""

    user_id: str
    amount: int | None
    currency: str | None
    description: str | None
    package_id: str | None
    idempotency_key: str | None


def fingerprint(kind: PaymentKind, *fields: object) -> str:
    text = "\x1f".join([kind.value, *("" if f is None else str(f) for f in fields)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def open_payment(
    order: Order,
    kind: PaymentKind,
    request_fingerprint: str,
    *,
    uow_factory: UnitOfWorkFactory,
    pricing: PricingPolicy,
    now: datetime,
    expires_in: timedelta,
) -> Payment:
    """Return the order's payment: a new pending one, or the one its key already made."""
    key = order.idempotency_key
    if key is not None and not 1 <= len(key) <= MAX_CLIENT_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 characters", code="invalid_idempotency_key"
        )
    price, credits = pricing.price_order(order.amount, order.currency, order.package_id)
    async with uow_factory() as uow:
        if key is not None:
            existing = await uow.payments.find_by_client_key(order.user_id, key)
            if existing is not None:
                if existing.client_fingerprint != request_fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request"
                    )
                return existing
        package = pricing.package(order.package_id) if order.package_id else None
        payment = Payment(
            id=new_id("pay"),
            user_id=order.user_id,
            kind=kind,
            amount=price.amount,
            currency=price.currency,
            credits=credits,
            status=PaymentStatus.PENDING,
            created_at=now,
            updated_at=now,
            description=order.description or (package.name if package else None),
            package_id=order.package_id,
            expires_at=now + expires_in,
            client_key=key,
            client_fingerprint=request_fingerprint if key is not None else None,
        )
        # A concurrent request with the same key loses on the unique (user_id, client_key)
        # index: the repository raises RequestInProgress (409) and the client retries.
        await uow.payments.add(payment)
        await uow.commit()
    return payment
