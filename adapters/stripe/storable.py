"""Whether a verified event can be recorded at all, and if not, what stands in for it.

Stripe's ids are at most 255 characters and its event types far shorter than 100; the
processed-events and refunds tables store no more, and PostgreSQL stores no NUL byte.
An event carrying anything else can never be applied: it becomes ``Unusable``, with an
id and type that can be recorded, so that it is answered 200 once and a redelivery is
a duplicate (a 5xx would have Stripe redeliver it for days). Metadata is not checked:
``fields.metadata`` drops entries no database stores, and ours never hold any.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator

from application.webhooks.events import GatewayEvent, Unusable

MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
_IDS = frozenset(
    {
        "event_id",
        "session_id",
        "intent_id",
        "refund_id",
        "payment_intent_id",
        "dispute_id",
        "subscription_id",
        "customer_id",
        "invoice_id",
        "price_id",
    }
)
_DIGEST_PREFIX = "sha256:"


def usable(event: GatewayEvent) -> GatewayEvent:
    """``event`` itself, or the ``Unusable`` event recorded in its place."""
    reason = _unusable_because(event)
    if reason is None:
        return event
    return Unusable(
        event_id=storable_id(event.event_id),
        type=event.type.replace("\x00", "")[:MAX_TYPE_LENGTH],
        created_at=event.created_at,
        livemode=event.livemode,
        reason=reason,
    )


def storable_id(event_id: str) -> str:
    """The id, or a digest of it when it cannot be stored: still one key per event."""
    if len(event_id) <= MAX_ID_LENGTH and "\x00" not in event_id:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return _DIGEST_PREFIX + digest


def _unusable_because(event: GatewayEvent) -> str | None:
    for name, value in _texts(event, "event"):
        if "\x00" in value:
            return f"{name} holds a NUL byte"
        if name in _IDS and len(value) > MAX_ID_LENGTH:
            return f"{name} is longer than {MAX_ID_LENGTH} characters"
    if len(event.type) > MAX_TYPE_LENGTH:
        return f"type is longer than {MAX_TYPE_LENGTH} characters"
    return None


def _texts(value: object, name: str) -> Iterator[tuple[str, str]]:
    """Every text field of the event, named, through its payment ref and refund list."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, tuple):
        for item in value:
            yield from _texts(item, name)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _texts(getattr(value, field.name), field.name)
