"""What the sandbox keeps about customers (and the cards they saved, through setup-mode
Checkouts), subscription Checkouts, subscriptions and invoices, behind one small store
(``SubscriptionBook``), and how each reads as a
Stripe object of the pinned API version (so ``adapters.stripe.billing`` translates
the sandbox's objects exactly as Stripe's).

Records are mutable live state of the fake PSP, kept in the sandbox's store like its
sessions and intents: one operation loads them (``adapters.sandbox.transact``), changes
them and writes them back; they leave the sandbox as fresh dicts or our own frozen types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.sandbox.records import CheckoutDetails, new_id
from application.purchases.gateway import CheckoutStatus
from domain.errors import NotFound
from domain.plans import Plan


@dataclass(slots=True)
class CustomerRecord:
    id: str
    email: str
    user_id: str
    fail_next_charges: int = 0  # renewals (or upgrades) to decline, for rehearsals
    default_card: str | None = None  # the test card number off-session charges use

    def charge_declined(self) -> bool:
        if self.fail_next_charges > 0:
            self.fail_next_charges -= 1
            return True
        return False


@dataclass(slots=True)
class SetupSessionRecord:
    """A Checkout Session in setup mode: paying it saves the card (``card_setup``)."""

    id: str
    customer_id: str
    user_id: str
    success_url: str
    cancel_url: str
    url: str
    created: int
    status: CheckoutStatus = CheckoutStatus.OPEN

    def details(self) -> CheckoutDetails:
        return CheckoutDetails(
            session_id=self.id,
            status=self.status,
            amount=0,
            currency="usd",
            description="Save a card for auto top-up",
            success_url=self.success_url,
            cancel_url=self.cancel_url,
        )


@dataclass(slots=True)
class SubscriptionSessionRecord:
    id: str
    customer_id: str
    user_id: str
    plan: Plan
    success_url: str
    cancel_url: str
    url: str
    expires_at: datetime
    created: int
    status: CheckoutStatus = CheckoutStatus.OPEN
    subscription_id: str | None = None


@dataclass(slots=True)
class SubscriptionRecord:
    id: str
    customer_id: str
    plan: Plan
    metadata: dict[str, str]
    period_start: int
    period_end: int
    created: int
    item_id: str = field(default_factory=lambda: new_id("si"))
    status: str = "active"
    cancel_at_period_end: bool = False
    ended_at: int | None = None
    invoice_ids: list[str] = field(default_factory=list)  # oldest first


@dataclass(slots=True)
class InvoiceRecord:
    id: str
    subscription_id: str
    customer_id: str
    billing_reason: str
    currency: str
    lines: list[dict[str, Any]]
    created: int
    status: str = "open"
    amount_paid: int = 0
    intent_id: str | None = None

    @property
    def amount_due(self) -> int:
        return max(0, sum(int(line["amount"]) for line in self.lines))


class SubscriptionBook:
    """One operation's subscription records, as loaded from the store with its target
    (a subscription comes with its customer, invoices and their PaymentIntents)."""

    def __init__(self) -> None:
        self.customers: dict[str, CustomerRecord] = {}
        self.setups: dict[str, SetupSessionRecord] = {}
        self.sessions: dict[str, SubscriptionSessionRecord] = {}
        self.subscriptions: dict[str, SubscriptionRecord] = {}
        self.invoices: dict[str, InvoiceRecord] = {}

    def customer(self, customer_id: str) -> CustomerRecord:
        return _found(self.customers, customer_id, "customer")

    def setup(self, session_id: str) -> SetupSessionRecord:
        return _found(self.setups, session_id, "checkout session")

    def session(self, session_id: str) -> SubscriptionSessionRecord:
        return _found(self.sessions, session_id, "checkout session")

    def subscription(self, subscription_id: str) -> SubscriptionRecord:
        return _found(self.subscriptions, subscription_id, "subscription")

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        return _found(self.invoices, invoice_id, "invoice")

    def open_invoice(self, subscription_id: str) -> InvoiceRecord | None:
        invoices = (self.invoice(i) for i in self.subscription(subscription_id).invoice_ids)
        open_ones = [i for i in invoices if i.status == "open"]
        return open_ones[-1] if open_ones else None

    def records(
        self,
    ) -> list[
        CustomerRecord
        | SetupSessionRecord
        | SubscriptionSessionRecord
        | SubscriptionRecord
        | InvoiceRecord
    ]:
        return [
            *self.customers.values(),
            *self.setups.values(),
            *self.sessions.values(),
            *self.subscriptions.values(),
            *self.invoices.values(),
        ]


def _found(records: dict[str, Any], key: str, kind: str) -> Any:
    if key not in records:
        raise NotFound(f"no such {kind}: {key}")
    return records[key]


def subscription_object(sub: SubscriptionRecord) -> dict[str, Any]:
    """Periods on the item, as the pinned API version has them (not top-level)."""
    return {
        "id": sub.id,
        "object": "subscription",
        "customer": sub.customer_id,
        "status": sub.status,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": sub.ended_at,
        "ended_at": sub.ended_at,
        "created": sub.created,
        "metadata": dict(sub.metadata),
        "items": {
            "object": "list",
            "data": [
                {
                    "id": sub.item_id,
                    "object": "subscription_item",
                    "current_period_start": sub.period_start,
                    "current_period_end": sub.period_end,
                    "price": price_object(sub.plan),
                    "quantity": 1,
                }
            ],
            "has_more": False,
        },
        "livemode": False,
    }


def price_object(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.price_id,
        "object": "price",
        "currency": plan.price.currency,
        "unit_amount": plan.price.amount,
        "recurring": {"interval": plan.interval.value, "interval_count": 1},
        "nickname": plan.name,
    }


def invoice_line(
    plan: Plan, amount: int, start: int, end: int, subscription_id: str, proration: bool
) -> dict[str, Any]:
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": plan.price.currency,
        "description": f"{plan.name}{' (proration)' if proration else ''}",
        "period": {"start": start, "end": end},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": plan.price_id, "product": f"prod_{plan.id}"},
            "unit_amount_decimal": str(plan.price.amount),
        },
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": subscription_id,
                "proration": proration,
            },
        },
        "quantity": 1,
    }


def invoice_object(invoice: InvoiceRecord) -> dict[str, Any]:
    """The subscription under ``parent``, the payment under ``payments``: no top-level
    ``subscription`` or ``payment_intent`` since the pinned API version."""
    payments = []
    if invoice.intent_id is not None:
        payments.append(
            {
                "object": "invoice_payment",
                "status": "paid" if invoice.status == "paid" else "open",
                "payment": {"type": "payment_intent", "payment_intent": invoice.intent_id},
            }
        )
    return {
        "id": invoice.id,
        "object": "invoice",
        "customer": invoice.customer_id,
        "status": invoice.status,
        "billing_reason": invoice.billing_reason,
        "currency": invoice.currency,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": invoice.amount_due - invoice.amount_paid,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": invoice.subscription_id, "metadata": {}},
        },
        "lines": {"object": "list", "data": list(invoice.lines), "has_more": False},
        "payments": {"object": "list", "data": payments, "has_more": False},
        "created": invoice.created,
        "livemode": False,
    }


def subscription_session_object(session: SubscriptionSessionRecord) -> dict[str, Any]:
    complete = session.status is CheckoutStatus.COMPLETE
    return {
        "id": session.id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": session.status.value,
        "payment_status": "paid" if complete else "unpaid",
        "customer": session.customer_id,
        "subscription": session.subscription_id,
        "client_reference_id": session.user_id,
        "amount_total": session.plan.price.amount,
        "currency": session.plan.price.currency,
        "metadata": {"user_id": session.user_id, "plan_id": session.plan.id},
        "success_url": session.success_url,
        "cancel_url": session.cancel_url,
        "url": session.url if session.status is CheckoutStatus.OPEN else None,
        "expires_at": int(session.expires_at.timestamp()),
        "created": session.created,
        "livemode": False,
    }
