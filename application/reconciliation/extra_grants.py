"""Grants in the window that the gateway does not back with a payment.

A grant is made after its payment succeeded, so a grant early in the window may
belong to a payment whose success event fell just before it: such grants are checked
by asking the gateway about that one payment, never assumed wrong.
"""

from __future__ import annotations

from datetime import datetime

from application.batch import JobReport
from application.ports import UnitOfWorkFactory
from application.purchases.gateway import IntentStatus, PurchaseGateway
from application.reconciliation.drift import CHUNK, Drift, DriftKind, GatewayView
from domain.ledger import EntryKind, LedgerEntry
from domain.payment import Payment, PaymentKind


async def extra_grants(
    view: GatewayView,
    since: datetime,
    uow_factory: UnitOfWorkFactory,
    gateway: PurchaseGateway,
    report: JobReport,
) -> list[Drift]:
    found: list[Drift] = []
    after_id = 0
    while True:
        async with uow_factory() as uow:
            entries = await uow.audit.entries_since(EntryKind.PURCHASE, since, after_id, CHUNK)
            suspects = [
                (entry, await uow.payments.get(entry.reference_id))
                for entry in entries
                if entry.reference_id not in view.paid
            ]
        if not entries:
            return found
        after_id = entries[-1].id
        for entry, payment in suspects:
            try:
                backed = payment is not None and await _paid_at_gateway(payment, gateway)
            except Exception as exc:
                report.fail(entry.reference_id, exc)
                continue
            if not backed:
                found.append(_extra(entry, payment))


def _extra(entry: LedgerEntry, payment: Payment | None) -> Drift:
    why = "no such payment" if payment is None else "the gateway reports it unpaid"
    detail = f"{entry.credits} credits granted to {entry.user_id}; {why}"
    return Drift(DriftKind.EXTRA_GRANT, entry.reference_id, detail)


async def _paid_at_gateway(payment: Payment, gateway: PurchaseGateway) -> bool:
    if payment.kind is PaymentKind.CHECKOUT and payment.stripe_session_id:
        return (await gateway.get_checkout(payment.stripe_session_id)).paid
    if payment.stripe_payment_intent_id:
        intent = await gateway.get_payment_intent(payment.stripe_payment_intent_id)
        return intent.status is IntentStatus.SUCCEEDED
    return False
