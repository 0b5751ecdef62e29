"""The same-transaction follow-ups of domain events, wired in one place.

The units of work take this bus (``MemoryStore``, ``uow_factory``) and run it just
before they commit. A completed purchase converts the buyer's trial, then decides
their referral, in that order (the lock order in ``rewards.purchase_rewards``); a
refund applied to the first purchase, or one undone because it failed, or a lost
dispute of it, settles the referral again (bonuses taken back, or given back). A paid
subscription invoice converts the trial too (``subscriptions.trial_conversion``).
Every change that lowers available credits decides the balance alerts and, for
spending and expiry, may request an auto top-up (``when_credits_fall``: its events are
``LOWERING``); credits given back re-arm the alerts (``alerts.check``); a dispute
opened turns auto top-up off (``auto_top_up.pause``).

``pricing`` is the catalogue that prices a top-up of a package; the composition root
passes the configured one.
"""

from __future__ import annotations

from application.alerts.check import rearm_alerts
from application.auto_top_up.pause import pause_for_dispute
from application.messagebus import MessageBus
from application.rewards.purchase_rewards import decide_referral, settle_referral_on_refunds
from application.rewards.trials import convert_trial
from application.subscriptions.trial_conversion import convert_trial_on_invoice
from application.when_credits_fall import when_adjusted, when_credits_fall
from domain.credits import PricingPolicy
from domain.events import (
    CreditsAdjusted,
    CreditsDebited,
    CreditsExpired,
    CreditsGranted,
    CreditsReversed,
    DisputeChanged,
    DisputeLost,
    HoldEnded,
    HoldPlaced,
    PaymentCompleted,
    RefundApplied,
    RefundRestored,
    SubscriptionInvoicePaid,
)

# The events of changes that only lower available credits (an adjustment may go either
# way: ``when_adjusted``).
LOWERING = (CreditsDebited, CreditsExpired, CreditsReversed, HoldPlaced)


def follow_ups(pricing: PricingPolicy | None = None) -> MessageBus:
    fell = when_credits_fall(pricing)
    bus = (
        MessageBus()
        .on(PaymentCompleted, convert_trial, decide_referral)
        .on(RefundApplied, settle_referral_on_refunds)
        .on(RefundRestored, settle_referral_on_refunds)
        .on(SubscriptionInvoicePaid, convert_trial_on_invoice)
        .on(DisputeLost, settle_referral_on_refunds)
        .on(DisputeChanged, pause_for_dispute)
        .on(CreditsAdjusted, when_adjusted(fell))
        .on(HoldEnded, rearm_alerts)
        .on(CreditsGranted, rearm_alerts)
        .on(RefundRestored, rearm_alerts)
    )
    for lowering in LOWERING:
        bus.on(lowering, fell)
    return bus
