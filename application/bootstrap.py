"""The same-transaction follow-ups of domain events, wired in one place.

The units of work take this bus (``MemoryStore``, ``uow_factory``) and run it just
before they commit. A completed purchase converts the buyer's trial, then decides
their referral, in that order (the lock order in ``rewards.purchase_rewards``); a
refund applied to the first purchase, or one undone because it failed, or a lost
dispute of it, settles the referral again (bonuses taken back, or given back). A paid
subscription invoice converts the trial too (``subscriptions.trial_conversion``).
"""

from __future__ import annotations

from application.messagebus import MessageBus
from application.rewards.purchase_rewards import decide_referral, settle_referral_on_refunds
from application.rewards.trials import convert_trial
from application.subscriptions.trial_conversion import convert_trial_on_invoice
from domain.events import (
    DisputeLost,
    PaymentCompleted,
    RefundApplied,
    RefundRestored,
    SubscriptionInvoicePaid,
)


def follow_ups() -> MessageBus:
    return (
        MessageBus()
        .on(PaymentCompleted, convert_trial, decide_referral)
        .on(RefundApplied, settle_referral_on_refunds)
        .on(RefundRestored, settle_referral_on_refunds)
        .on(SubscriptionInvoicePaid, convert_trial_on_invoice)
        .on(DisputeLost, settle_referral_on_refunds)
    )
