"""Reverse credits for refunds the gateway made, once per refund id.

Used by the refund webhook events and by the admin refund endpoint, so a refund
seen by both reverses once. Reversal is proportional on cumulative amounts; a
balance may go negative when refunded credits were already spent (recorded debt).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from datetime import datetime

from application.gateway import REVERSING_REFUND_STATUSES, GatewayRefund
from application.ports import UnitOfWork
from domain.ledger import refund_posting
from domain.payment import Payment

log = logging.getLogger(__name__)


async def apply_refunds(
    uow: UnitOfWork, payment: Payment, refunds: Iterable[GatewayRefund], now: datetime
) -> dict[str, int]:
    """Apply each new refund to ``payment`` (locked); returns credits reversed per refund id."""
    applied: dict[str, int] = {}
    for refund in refunds:
        if refund.status not in REVERSING_REFUND_STATUSES:
            continue
        if refund.currency and refund.currency.lower() != payment.currency:
            log.error(
                "refund_currency_mismatch payment_id=%s refund_id=%s currency=%s",
                payment.id,
                refund.refund_id,
                refund.currency,
            )
            continue
        candidate = copy.copy(payment)
        reversed_credits = candidate.record_refund(refund.amount, now)
        if not await uow.refunds.add(refund, payment.id, payment.user_id, reversed_credits, now):
            continue
        _adopt(payment, candidate)
        if reversed_credits > 0:
            await uow.ledger.post(
                refund_posting(payment.user_id, payment.id, refund.refund_id, reversed_credits),
                now,
            )
        applied[refund.refund_id] = reversed_credits
        log.info(
            "refund_applied payment_id=%s user_id=%s refund_id=%s amount=%s credits_reversed=%s",
            payment.id,
            payment.user_id,
            refund.refund_id,
            refund.amount,
            reversed_credits,
        )
    if applied:
        await uow.payments.save(payment)
    return applied


def _adopt(payment: Payment, candidate: Payment) -> None:
    payment.amount_refunded = candidate.amount_refunded
    payment.credits_reversed = candidate.credits_reversed
    payment.status = candidate.status
    payment.updated_at = candidate.updated_at
