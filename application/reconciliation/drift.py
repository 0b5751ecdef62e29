"""Compare what the gateway says was paid and refunded with what the ledger holds.

The gateway's view comes from its events for the window (the events reconciliation
has just replayed); where an event names no refunds, or a grant has no success event
in the window, the gateway is asked about that one object. Reads run in short units
of work, a chunk of payments at a time, and never around a gateway call.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from application.batch import JobReport
from application.ports import UnitOfWorkFactory
from application.refunds.gateway import REVERSING_REFUND_STATUSES, GatewayRefund, RefundGateway
from application.subscriptions.gateway import GatewayInvoice
from application.webhooks.events import (
    CheckoutCompleted,
    GatewayEvent,
    PaymentRef,
    PaymentSucceeded,
    RefundsReported,
)
from application.webhooks.payment_lookup import find_payment
from domain.ledger import purchase_key
from domain.payment import Payment

CHUNK = 100


class DriftKind(enum.StrEnum):
    MISSING_GRANT = "missing_grant"  # paid at the gateway, no grant in the ledger
    EXTRA_GRANT = "extra_grant"  # a grant for a payment the gateway says is unpaid
    AMOUNT_MISMATCH = "amount_mismatch"  # paid, or granted, other than the payment says
    MISSING_REFUND = "missing_refund"  # refunded at the gateway, credits not reversed
    REFUND_MISMATCH = "refund_mismatch"  # the refunded totals differ
    MISSING_INVOICE_GRANT = "missing_invoice_grant"  # a paid invoice of ours, never granted


@dataclass(frozen=True, slots=True)
class PaidAtGateway:
    amount: int | None
    currency: str | None
    intent_id: str | None


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference; ``paid`` / ``refund`` carry what a repair needs."""

    kind: DriftKind
    payment_id: str
    detail: str
    paid: PaidAtGateway | None = None
    refund: GatewayRefund | None = None
    invoice: GatewayInvoice | None = None  # for MISSING_INVOICE_GRANT; payment_id is its id


@dataclass(slots=True)
class GatewayView:
    """Our payments the window's events report paid (and how) or refunded."""

    paid: dict[str, PaidAtGateway] = field(default_factory=dict)
    refunded: set[str] = field(default_factory=set)


def _reported(event: GatewayEvent) -> tuple[PaymentRef, PaidAtGateway | None] | None:
    """The payment a paid or refund event names, and for a paid one what was paid."""
    match event:
        case RefundsReported():
            return event.payment, None
        case CheckoutCompleted(paid=False):
            return None
        case PaymentSucceeded() | CheckoutCompleted():
            paid = PaidAtGateway(event.amount, event.currency, event.payment.intent_id)
            return event.payment, paid
    return None


async def gateway_view(
    events: Sequence[GatewayEvent], uow_factory: UnitOfWorkFactory
) -> GatewayView:
    """Match events to payments exactly as the webhook handlers do."""
    view = GatewayView()
    relevant = [reported for event in events if (reported := _reported(event)) is not None]
    for start in range(0, len(relevant), CHUNK):
        async with uow_factory() as uow:
            for ref, paid in relevant[start : start + CHUNK]:
                payment = await find_payment(uow, ref)
                if payment is None:
                    continue  # another app's object: the handler ignored it too
                if paid is None:
                    view.refunded.add(payment.id)
                else:
                    view.paid[payment.id] = paid
    return view


async def grant_drift(view: GatewayView, uow_factory: UnitOfWorkFactory) -> list[Drift]:
    """Every payment the gateway reports paid must hold exactly its one grant."""
    found: list[Drift] = []
    ids = sorted(view.paid)
    for start in range(0, len(ids), CHUNK):
        async with uow_factory() as uow:
            for payment_id in ids[start : start + CHUNK]:
                payment = await uow.payments.get(payment_id)
                entry = await uow.audit.find_entry(purchase_key(payment_id))
                if payment is not None:
                    granted = None if entry is None else entry.credits
                    found.extend(_grant_drift(payment, view.paid[payment_id], granted))
    return found


def _grant_drift(payment: Payment, paid: PaidAtGateway, granted: int | None) -> list[Drift]:
    if not payment.matches(paid.amount, paid.currency):
        took = f"gateway took {paid.amount} {paid.currency}"
        detail = f"{took}, the payment is for {payment.amount} {payment.currency}"
        return [Drift(DriftKind.AMOUNT_MISMATCH, payment.id, detail, paid)]
    if granted is None:
        detail = f"paid {paid.amount} {paid.currency}; {payment.credits} credits never granted"
        return [Drift(DriftKind.MISSING_GRANT, payment.id, detail, paid)]
    if granted != payment.credits:
        detail = f"granted {granted} credits, the payment is worth {payment.credits}"
        return [Drift(DriftKind.AMOUNT_MISMATCH, payment.id, detail, paid)]
    return []


async def refund_drift(
    view: GatewayView,
    uow_factory: UnitOfWorkFactory,
    gateway: RefundGateway,
    report: JobReport,
) -> list[Drift]:
    """Every refund the gateway made must be reversed once, and the totals agree.

    All of a payment's refunds are listed (not only the window's): the totals are
    cumulative, and a refund event may name none of them.
    """
    found: list[Drift] = []
    for payment_id in sorted(view.refunded):
        async with uow_factory() as uow:
            payment = await uow.payments.get(payment_id)
        if payment is None or payment.stripe_payment_intent_id is None:
            continue
        try:
            listed = await gateway.list_refunds(payment.stripe_payment_intent_id)
        except Exception as exc:
            report.fail(payment_id, exc)
            continue
        reversing = [r for r in listed if r.status in REVERSING_REFUND_STATUSES]
        async with uow_factory() as uow:
            missing = [
                r for r in reversing if await uow.refunds.credits_reversed(r.refund_id) is None
            ]
        for refund in missing:
            detail = f"refund {refund.refund_id} of {refund.amount} {refund.currency} not reversed"
            found.append(Drift(DriftKind.MISSING_REFUND, payment_id, detail, refund=refund))
        expected = min(payment.amount, sum(r.amount for r in reversing))
        if not missing and payment.amount_refunded != expected:
            detail = f"gateway refunded {expected}, the payment records {payment.amount_refunded}"
            found.append(Drift(DriftKind.REFUND_MISMATCH, payment_id, detail))
    return found
