"""Refunds of a subscription invoice reverse its credits in proportion, like a purchase.

A refund names a PaymentIntent, never the invoice (the pinned API version dropped
``invoice`` from PaymentIntents and charges), so the invoice is found by the payment
recorded when it was granted. Each refund id reverses once (the refund log), on
cumulative totals, from the invoice's own lot first; credits already spent become debt
(docs/ledger.md). Rolled-over credits came from earlier periods and are not reversed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from application.ports import UnitOfWork
from application.refunds.apply_refund import take_back
from application.refunds.gateway import REVERSING_REFUND_STATUSES, GatewayRefund
from domain.subscription import SubscriptionInvoice, invoice_key

log = logging.getLogger(__name__)


async def refund_invoice(
    uow: UnitOfWork,
    payment_intent_id: str | None,
    invoice_id: str | None,
    refunds: Iterable[GatewayRefund],
    now: datetime,
) -> tuple[str | None, bool]:
    """The refunded invoice's id (None if no granted invoice of ours), and whether it
    changed. ``invoice_id`` is the invoice the gateway says the payment paid: it finds
    an invoice granted before its payment was known."""
    invoice = await _granted_invoice(uow, payment_intent_id, invoice_id)
    if invoice is None:
        return None, False
    await uow.subscriptions.get(invoice.subscription_id, for_update=True)  # one at a time
    changed = False
    for refund in refunds:
        if refund.status not in REVERSING_REFUND_STATUSES:
            continue
        if refund.currency and refund.currency.lower() != invoice.currency:
            log.error(
                "refund_currency_mismatch invoice_id=%s refund_id=%s",
                invoice.invoice_id,
                refund.refund_id,
            )
            continue
        reversed_now = await _reverse(uow, invoice, refund, now)
        if reversed_now is not None:
            invoice, changed = invoice.refunded(refund.amount), True
    if changed:
        await uow.subscriptions.save_invoice(invoice)
    return invoice.invoice_id, changed


async def _granted_invoice(
    uow: UnitOfWork, payment_intent_id: str | None, invoice_id: str | None
) -> SubscriptionInvoice | None:
    if payment_intent_id is not None:
        found = await uow.subscriptions.invoice_for_payment(payment_intent_id)
        if found is not None:
            return found
    return None if invoice_id is None else await uow.subscriptions.get_invoice(invoice_id)


async def is_our_invoice(
    uow: UnitOfWork, subscription_id: str | None, customer_id: str | None
) -> bool:
    """An invoice of a subscription of ours, or at least of a customer we created
    (whose subscription is not recorded yet): its ``invoice.paid`` will grant it."""
    if subscription_id is None:
        return False
    if await uow.subscriptions.get(subscription_id) is not None:
        return True
    return customer_id is not None and await uow.customers.user_for(customer_id) is not None


async def _reverse(
    uow: UnitOfWork, invoice: SubscriptionInvoice, refund: GatewayRefund, now: datetime
) -> int | None:
    credits = invoice.credits_to_reverse(refund.amount)
    if not await uow.refunds.add(refund, invoice.invoice_id, invoice.user_id, credits, now):
        return None
    await take_back(
        uow,
        invoice.user_id,
        invoice.invoice_id,
        invoice_key(invoice.invoice_id),
        refund,
        credits,
        now,
    )
    log.info(
        "invoice_refund_applied invoice_id=%s refund_id=%s amount=%s credits_reversed=%s",
        invoice.invoice_id,
        refund.refund_id,
        refund.amount,
        credits,
    )
    return credits
