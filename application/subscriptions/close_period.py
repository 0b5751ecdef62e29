"""Carry a period's unused credits into the next period, up to the plan's cap.

A period is closed once the next period's invoice is granted, whichever of the two
invoices arrives first, so what rolls over does not depend on delivery order. Its
unused credits are what its lots (the period's invoice grants and what rolled into it)
still hold, plus what expiries already took from them: credits expired by the clock
before the renewal was paid still roll over. The amount carried is recorded on the
receiving invoice; a lot of the period that arrives after it was closed (a late
upgrade) is closed too, and only tops the rollover up to the cap.
"""

from __future__ import annotations

from dataclasses import replace
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
    carried by this call. Without a cap nothing rolls and the lots expire on their own."""
    if cap <= 0:
        return 0
    await uow.ledger.lock_account(into.user_id)
    lots, unspent = [], 0
    for key in await _period_keys(uow, subscription_id, ending):
        lot = await uow.lots.lot_for_key(key)
        if lot is not None:
            unspent += lot.remaining + await _expired(uow, lot)
            lots.append(lot)
    target = rollover_credits(unspent, cap)
    if target == 0:
        return 0
    for lot in lots:
        if lot.remaining > 0:
            entry = await uow.ledger.post(expiry_posting(lot), now)
            if entry is not None:
                uow.record(CreditsExpired.of(entry, lot.entry_id))
    carried = target - into.rolled_in
    if carried <= 0:
        return 0
    key = rollover_key(subscription_id, ending, into.rollovers)
    posting = rollover_grant(into.user_id, subscription_id, key, carried, into.period_end)
    await grant(uow, posting, now)
    closed = replace(into, rolled_in=target, rollovers=into.rollovers + 1)
    await uow.subscriptions.save_invoice(closed)
    return carried


async def _period_keys(uow: UnitOfWork, subscription_id: str, ending: datetime) -> list[str]:
    """The grant keys of the period's lots: its invoices, and what rolled into it."""
    invoices = await uow.subscriptions.invoices_ending(subscription_id, ending)
    keys = [invoice_key(invoice.invoice_id) for invoice in invoices]
    for invoice in invoices:
        keys.extend(rolled_in_keys(subscription_id, invoice))
    return keys


def rolled_in_keys(subscription_id: str, invoice: SubscriptionInvoice) -> list[str]:
    """The keys of the rollover grants into ``invoice``'s period (one, plus top-ups)."""
    return [
        rollover_key(subscription_id, invoice.period_start, n) for n in range(invoice.rollovers)
    ]


async def _expired(uow: UnitOfWork, lot: Lot) -> int:
    """What an expiry (the clock's, or an earlier close's) already removed from ``lot``."""
    entry = await uow.audit.find_entry(f"expiry:{lot.entry_id}")  # expiry_posting's key
    return 0 if entry is None else -entry.credits
