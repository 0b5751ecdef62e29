"""The sandbox's records as the bytes a store keeps, and back.

JSON through msgspec: deterministic for equal records, so an operation can tell what it
changed by comparing bytes, and readable in the ``sandbox_objects`` table.
"""

from __future__ import annotations

import msgspec

from adapters.sandbox.records import IntentRecord, SessionRecord
from adapters.sandbox.store import StoredObject

SESSION = "checkout.session"
INTENT = "payment_intent"

Record = SessionRecord | IntentRecord


def encode(record: Record) -> StoredObject:
    kind = SESSION if isinstance(record, SessionRecord) else INTENT
    return StoredObject(record.id, kind, msgspec.json.encode(record))


def decode(stored: StoredObject) -> Record:
    if stored.kind == SESSION:
        return msgspec.json.decode(stored.body, type=SessionRecord)
    return msgspec.json.decode(stored.body, type=IntentRecord)


def linked_id(record: Record) -> str | None:
    """The other half of a Checkout: its PaymentIntent, or the session it belongs to."""
    return record.intent_id if isinstance(record, SessionRecord) else record.session_id


def fingerprint(request: object) -> bytes:
    """The parameters a replay must repeat exactly, as Stripe compares them."""
    return type(request).__name__.encode() + b":" + msgspec.json.encode(request)
