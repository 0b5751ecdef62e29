"""Paid subscription invoices whose credits were never granted, and their repair.

The window's ``invoice.paid`` events name the invoices the gateway was paid for; each
of ours (its subscription, or at least its customer, is known) must have its row and
its ``invoice:<invoice id>`` grant. A repair grants it through ``grant_invoice``, the
webhook's own path, so a repair racing a late webhook still grants once.
"""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import Clock, UnitOfWorkFactory
from application.reconciliation.drift import Drift, DriftKind
from application.subscriptions.gateway import SubscriptionReadGateway
from application.subscriptions.grant_invoice import InvoiceOutcome, grant_invoice
from application.subscriptions.refund_invoice import is_our_invoice
from application.webhooks.events import GatewayEvent, InvoicePaid
from application.webhooks.when_subscription_changed import current_state
from domain.subscription import invoice_key


async def invoice_drift(
    events: Sequence[GatewayEvent], uow_factory: UnitOfWorkFactory
) -> list[Drift]:
    paid = {e.invoice.invoice_id: e.invoice for e in events if isinstance(e, InvoicePaid)}
    found: list[Drift] = []
    async with uow_factory() as uow:
        for invoice in paid.values():
            if await uow.subscriptions.get_invoice(invoice.invoice_id) is not None:
                continue
            if await is_our_invoice(uow, invoice.subscription_id, invoice.customer_id):
                detail = f"invoice paid {invoice.amount_paid} {invoice.currency}; never granted"
                found.append(
                    Drift(
                        DriftKind.MISSING_INVOICE_GRANT, invoice.invoice_id, detail, invoice=invoice
                    )
                )
    return found


async def repair_invoice(
    drift: Drift, uow_factory: UnitOfWorkFactory, gateway: SubscriptionReadGateway, clock: Clock
) -> str | None:
    invoice = drift.invoice
    if invoice is None:
        return None
    snapshot = await current_state(gateway, invoice.subscription_id)  # before the transaction
    async with uow_factory() as uow:
        outcome = await grant_invoice(uow, invoice, snapshot, clock.now())
        await uow.commit()
    if outcome is InvoiceOutcome.NOT_OURS:
        return None
    async with uow_factory() as uow:
        entry = await uow.audit.find_entry(invoice_key(invoice.invoice_id))
    return f"granted {0 if entry is None else entry.credits} credits"
