"""What refunds ask of a payment gateway, and a refund as the gateway reports it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_id: str
    payment_intent_id: str
    amount: int
    reason: str | None
    idempotency_key: str


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REQUIRES_ACTION = "requires_action"


# Refund statuses whose money has left (or is leaving) the merchant: credits reverse.
REVERSING_REFUND_STATUSES = frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED})
# Final refund statuses whose money stayed with the merchant: a reversal is undone.
FAILED_REFUND_STATUSES = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    refund_id: str
    payment_intent_id: str | None
    amount: int
    currency: str
    status: RefundStatus


class RefundGateway(Protocol):
    async def refund(self, request: RefundRequest) -> GatewayRefund:
        """Refund at the gateway; the request carries our idempotency key."""
        ...

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]:
        """Every refund of the PaymentIntent, whatever its status."""
        ...
