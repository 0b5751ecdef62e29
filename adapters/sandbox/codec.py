"""The sandbox's records as the bytes a store keeps, and back.

JSON through msgspec: deterministic for equal records, so an operation can tell what it
changed by comparing bytes, and readable in the ``sandbox_objects`` table (its ``kind``
column names the record's type).
"""

from __future__ import annotations

import msgspec

from adapters.sandbox.records import IntentRecord, SessionRecord
from adapters.sandbox.store import StoredObject
from adapters.sandbox.subscription_records import (
    CustomerRecord,
    InvoiceRecord,
    SetupSessionRecord,
    SubscriptionRecord,
    SubscriptionSessionRecord,
)

SESSION = "checkout.session"
INTENT = "payment_intent"

Record = (
    SessionRecord
    | IntentRecord
    | CustomerRecord
    | SetupSessionRecord
    | SubscriptionSessionRecord
    | SubscriptionRecord
    | InvoiceRecord
)

KINDS: dict[str, type[Record]] = {
    SESSION: SessionRecord,
    INTENT: IntentRecord,
    "customer": CustomerRecord,
    "checkout.session.setup": SetupSessionRecord,
    "checkout.session.subscription": SubscriptionSessionRecord,
    "subscription": SubscriptionRecord,
    "invoice": InvoiceRecord,
}
_KIND_OF = {record_type: kind for kind, record_type in KINDS.items()}


def encode(record: Record) -> StoredObject:
    return StoredObject(record.id, _KIND_OF[type(record)], msgspec.json.encode(record))


def decode(stored: StoredObject) -> Record:
    return msgspec.json.decode(stored.body, type=KINDS[stored.kind])


def linked_ids(record: Record) -> set[str]:
    """What an operation on ``record`` may need too: the other half of a Checkout; the
    customer a setup-mode Checkout saves a card for; a subscription's customer and
    invoices; an invoice's subscription and PaymentIntent."""
    if isinstance(record, SessionRecord):
        linked = [record.intent_id]
    elif isinstance(record, IntentRecord):
        linked = [record.session_id, record.invoice_id]
    elif isinstance(record, SetupSessionRecord):
        linked = [record.customer_id]
    elif isinstance(record, SubscriptionSessionRecord):
        linked = [record.customer_id, record.subscription_id]
    elif isinstance(record, SubscriptionRecord):
        linked = [record.customer_id, *record.invoice_ids]
    elif isinstance(record, InvoiceRecord):
        linked = [record.subscription_id, record.intent_id]
    else:
        linked = []
    return {object_id for object_id in linked if object_id is not None}


def fingerprint(request: object) -> bytes:
    """The parameters a replay must repeat exactly, as Stripe compares them."""
    return type(request).__name__.encode() + b":" + msgspec.json.encode(request)
