"""The event types the product is told, by the outbox type each comes from.

The one table of public names: an outbox type missing here is still delivered, under
its own name, and a test keeps every domain event in the table. Renames happen here
only, so the outbox keeps the names its rows were written with.
"""

from __future__ import annotations

PUBLIC_TYPES: dict[str, str] = {
    "payment.completed": "payment.completed",
    # Failed, canceled or expired; ``data.status`` says which.
    "payment.closed": "payment.failed",
    "payment.refunded": "payment.refunded",
    "payment.refund_restored": "payment.refund_restored",
    "credits.granted": "credits.granted",
    "credits.expired": "credits.expired",
    "credits.reversed": "credits.reversed",
    "referral.rewarded": "referral.rewarded",
    "referral.reversed": "referral.reversed",
    "coupon.redeemed": "coupon.redeemed",
    "trial.started": "trial.started",
    "trial.converted": "trial.converted",
    "subscription.created": "subscription.created",
    "subscription.updated": "subscription.updated",
    "subscription.canceled": "subscription.canceled",
    "subscription.invoice_paid": "subscription.invoice_paid",
    "credits.debited": "credits.debited",
    "credits.adjusted": "credits.adjusted",
    "hold.placed": "credits.hold_placed",
    "hold.ended": "credits.hold_ended",
    # Opened, won, lost, funds withdrawn or reinstated; ``data.status`` says which.
    "payment.dispute": "payment.disputed",
    "payment.dispute_lost": "payment.dispute_lost",
    "credits.low_balance": "credits.low_balance",
    "credits.depleted": "credits.depleted",
    "credits.runway_low": "credits.runway_low",
    "auto_top_up.requested": "auto_top_up.requested",
    "auto_top_up.succeeded": "auto_top_up.succeeded",
    "auto_top_up.action_required": "auto_top_up.action_required",
    "auto_top_up.failed": "auto_top_up.failed",
    "auto_top_up.disabled": "auto_top_up.disabled",
}


def public_type(outbox_type: str) -> str:
    return PUBLIC_TYPES.get(outbox_type, outbox_type)


def outbox_types(public: str) -> tuple[str, ...]:
    """Every outbox type delivered as ``public`` (none for a name never delivered)."""
    named = tuple(inner for inner, outer in PUBLIC_TYPES.items() if outer == public)
    unlisted = () if public in PUBLIC_TYPES else (public,)
    return named or unlisted
