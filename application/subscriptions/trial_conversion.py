"""What a subscription's first paid invoice counts as for trials and referrals.

Policy: a paid subscription invoice makes the user a paying customer, so it converts
their trial, like a first purchase. It does not decide their referral: the referral's
minimum, its one-time decision and its reversal on refund are defined on a credit
purchase, so the referral stays pending until the user's first purchase.
"""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from domain.events import SubscriptionInvoicePaid, TrialConverted


async def convert_trial_on_invoice(
    uow: UnitOfWork, event: SubscriptionInvoicePaid, now: datetime
) -> None:
    """A paid invoice worth money converts the trial once (a $0 invoice does not)."""
    if event.amount <= 0:
        return
    trial = await uow.trials.get(event.user_id)
    if trial is None or trial.converted_at is not None:
        return
    await uow.trials.mark_converted(event.user_id, now)
    uow.record(TrialConverted(user_id=event.user_id, occurred_at=now, payment_id=event.invoice_id))
