"""Subscriptions: their lifecycle, and the credits each paid invoice grants.

The gateway bills; we only observe. A subscription's state moves forward only: a
canceled subscription stays canceled, and a report about an earlier period never
overwrites a later one, so a late ``updated(active)`` after ``deleted`` changes
nothing (docs/failure-modes.md #14). Credits come from paid invoices, one grant per
invoice, expiring with the period they pay for (docs/ledger.md).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

from domain.ledger import EntryKind, Posting
from domain.plans import Plan


class SubscriptionStatus(enum.StrEnum):
    INCOMPLETE = "incomplete"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    """What the gateway says about a subscription now, in our words."""

    subscription_id: str
    customer_id: str | None
    price_id: str | None
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str  # the gateway's subscription id
    user_id: str
    customer_id: str | None
    price_id: str | None
    plan_id: str | None
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    created_at: datetime
    updated_at: datetime
    canceled_at: datetime | None = None

    @classmethod
    def start(
        cls, snapshot: SubscriptionSnapshot, user_id: str, plan_id: str | None, now: datetime
    ) -> Subscription:
        return cls(
            id=snapshot.subscription_id,
            user_id=user_id,
            customer_id=snapshot.customer_id,
            price_id=snapshot.price_id,
            plan_id=plan_id,
            status=snapshot.status,
            current_period_start=snapshot.current_period_start,
            current_period_end=snapshot.current_period_end,
            cancel_at_period_end=snapshot.cancel_at_period_end,
            created_at=now,
            updated_at=now,
            canceled_at=snapshot.canceled_at,
        )

    @property
    def is_live(self) -> bool:
        return self.status is not SubscriptionStatus.CANCELED

    def observe(
        self, snapshot: SubscriptionSnapshot, plan_id: str | None, now: datetime
    ) -> Subscription | None:
        """This subscription as ``snapshot`` says it is now; None when nothing changes.

        Monotonic: canceled is final, and a snapshot of an earlier period is stale.
        """
        if self.status is SubscriptionStatus.CANCELED:
            return None
        if snapshot.current_period_start < self.current_period_start:
            return None
        observed = replace(
            self,
            price_id=snapshot.price_id or self.price_id,
            plan_id=plan_id or self.plan_id,
            status=snapshot.status,
            current_period_start=snapshot.current_period_start,
            current_period_end=snapshot.current_period_end,
            cancel_at_period_end=snapshot.cancel_at_period_end,
            canceled_at=snapshot.canceled_at or self.canceled_at,
            updated_at=now,
        )
        return None if replace(observed, updated_at=self.updated_at) == self else observed


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: a full period of a price, or a proration of one.

    ``amount`` is signed: the credit for unused time on the old price is negative.
    """

    price_id: str | None
    amount: int
    period_start: datetime
    period_end: datetime
    proration: bool = False
    quantity: int = 1


def invoice_credits(lines: Iterable[InvoiceLine], plans: Mapping[str, Plan]) -> int:
    """The credits a paid invoice grants: the README's formula.

    A full-period line of a plan's price grants the plan's credits per period (per
    unit); a line worth nothing (a trial) grants nothing. A proration line grants the
    plan's credits in proportion to what it charges against the plan's full price,
    ``credits_per_period * amount / price``, signed; an upgrade's invoice thus grants
    ``(C_new * a_new - C_old * a_old_unused)`` over the prices, about
    ``(C_new - C_old) * remaining / period``. Rounded down, never below zero; a line of
    a price no plan knows grants nothing.
    """
    total = Fraction(0)
    for line in lines:
        plan = plans.get(line.price_id or "")
        if plan is None:
            continue
        if line.proration:
            total += Fraction(plan.credits_per_period * line.amount, plan.price.amount)
        elif line.amount > 0:
            total += plan.credits_per_period * max(line.quantity, 1)
    return max(0, math.floor(total))


def granted_period(lines: Iterable[InvoiceLine]) -> tuple[datetime, datetime] | None:
    """The period an invoice pays for: from its earliest start to its latest end."""
    periods = [(line.period_start, line.period_end) for line in lines]
    if not periods:
        return None
    return min(p[0] for p in periods), max(p[1] for p in periods)


def billed_price(lines: Iterable[InvoiceLine]) -> str | None:
    """The price an invoice bills for its period: its charged line's (for an upgrade,
    the new price's proration line)."""
    charged = [line for line in lines if line.amount > 0 and line.price_id]
    full = [line for line in charged if not line.proration]
    chosen = full or charged
    return chosen[-1].price_id if chosen else None


@dataclass(frozen=True, slots=True)
class SubscriptionInvoice:
    """A paid invoice as the ledger knows it: what it granted, and what refunds took."""

    invoice_id: str
    subscription_id: str
    user_id: str
    billing_reason: str
    period_start: datetime
    period_end: datetime
    amount_paid: int
    currency: str
    credits: int
    paid_at: datetime
    payment_intent_id: str | None = None
    price_id: str | None = None  # the price it bills from now on (see ``billed_price``)
    amount_refunded: int = 0
    credits_reversed: int = 0
    rolled_in: int = 0  # credits carried into this invoice's period from the one before
    rollovers: int = 0  # how many rollover grants carried them (``rollover_key``'s n)

    def credits_to_reverse(self, amount: int) -> int:
        """Proportional on cumulative totals, like a purchase: once the whole invoice is
        refunded, exactly its credits are reversed, however the refunds were split."""
        if self.amount_paid <= 0:
            return 0
        refunded = min(self.amount_paid, self.amount_refunded + max(amount, 0))
        return self.credits * refunded // self.amount_paid - self.credits_reversed

    def refunded(self, amount: int) -> SubscriptionInvoice:
        reversed_now = self.credits_to_reverse(amount)
        return replace(
            self,
            amount_refunded=min(self.amount_paid, self.amount_refunded + amount),
            credits_reversed=self.credits_reversed + reversed_now,
        )


def invoice_key(invoice_id: str) -> str:
    """The one grant key of a paid invoice, whichever event or repair grants it."""
    return f"invoice:{invoice_id}"


def invoice_grant(invoice: SubscriptionInvoice) -> Posting:
    return Posting(
        user_id=invoice.user_id,
        credits=invoice.credits,
        kind=EntryKind.SUBSCRIPTION_GRANT,
        reference_type="invoice",
        reference_id=invoice.invoice_id,
        idempotency_key=invoice_key(invoice.invoice_id),
        expires_at=invoice.period_end,
    )


def rollover_key(subscription_id: str, period_end: datetime, n: int = 0) -> str:
    """The ``n``-th rollover out of the period ending at ``period_end``: one, plus a
    top-up for each lot of the period that arrived after it was closed."""
    base = f"rollover:{subscription_id}:{int(period_end.timestamp())}"
    return base if n == 0 else f"{base}:{n}"


def rollover_credits(unspent: int, cap: int) -> int:
    """What unused period credits carry into the next period: at most the cap."""
    return max(0, min(unspent, cap))


def rollover_grant(
    user_id: str, subscription_id: str, key: str, credits: int, expires_at: datetime
) -> Posting:
    return Posting(
        user_id=user_id,
        credits=credits,
        kind=EntryKind.SUBSCRIPTION_ROLLOVER,
        reference_type="subscription",
        reference_id=subscription_id,
        idempotency_key=key,
        expires_at=expires_at,
    )
