"""The subscriptions' tables in memory (part of ``MemoryState``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.plans import Plan
from domain.subscription import Subscription, SubscriptionInvoice


@dataclass(slots=True)
class SubscriptionsState:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    invoices: dict[str, SubscriptionInvoice] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)  # by price id
    customers: dict[str, str] = field(default_factory=dict)  # user id -> customer id
    claims: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # user -> key, until

    def copy(self) -> SubscriptionsState:
        return SubscriptionsState(
            dict(self.subscriptions),
            dict(self.invoices),
            dict(self.plans),
            dict(self.customers),
            dict(self.claims),
        )
