"""Carry a period's unused credits into the next period, up to the plan's cap.

A period is closed once the next period's invoice is granted, whichever of the two
invoices arrives first, so the outcome does not depend on delivery order. Its unused
credits are what its lots (the period's invoice grants and the rollover into it)
still hold, plus what the expiry job already took from them at the period's end:
credits expired by the clock before the renewal was paid still roll over.
"""

from __future__ import annotations

from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork
from domain.events import CreditsExpired
from domain.ledger import Lot, expiry_posting
from domain.subscription import (
    SubscriptionInvoice,
    invoice_key,
    rollover_credits,
    rollover_grant,
    rollover_key,
)


async def close_period(
    uow: UnitOfWork,
    subscription_id: str,
    ending: datetime,
    into: SubscriptionInvoice,
    cap: int,
    now: datetime,
) -> int:
    """Roll the period ending at ``ending`` into ``into``'s period; returns the credits
    carried (once: the rollover's key is the period's)."""
    if cap <= 0 or await uow.audit.find_entry(rollover_key(subscription_id, ending)):
        return 0
    await uow.ledger.lock_account(into.user_id)
    lots, unspent = [], 0
    for key in await _period_keys(uow, subscription_id, ending):
        lot = await uow.lots.lot_for_key(key)
        if lot is None:
            continue
        unspent += lot.remaining + await _expired(uow, lot)
        lots.append(lot)
    carried = rollover_credits(unspent, cap)
    if carried == 0:
        return 0  # nothing to carry: the lots expire at the period's end on their own
    for lot in lots:
        if lot.remaining > 0:
            entry = await uow.ledger.post(expiry_posting(lot), now)
            if entry is not None:
                uow.record(CreditsExpired.of(entry, lot.entry_id))
    posting = rollover_grant(into.user_id, subscription_id, ending, carried, into.period_end)
    await grant(uow, posting, now)
    return carried


async def _period_keys(uow: UnitOfWork, subscription_id: str, ending: datetime) -> list[str]:
    """The grant keys of the period's lots: its invoices, and what rolled into it."""
    invoices = await uow.subscriptions.invoices_ending(subscription_id, ending)
    keys = [invoice_key(invoice.invoice_id) for invoice in invoices]
    starts = {invoice.period_start for invoice in invoices}
    return keys + [rollover_key(subscription_id, start) for start in sorted(starts)]


async def _expired(uow: UnitOfWork, lot: Lot) -> int:
    """What the expiry job already removed from ``lot``."""
    entry = await uow.audit.find_entry(f"expiry:{lot.entry_id}")  # expiry_posting's key
    return 0 if entry is None else -entry.credits
