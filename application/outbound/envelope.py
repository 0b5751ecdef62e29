"""What the product receives: a JSON envelope and a signature it can check.

``Creditline-Signature: t=<unix>,v1=<hex>`` is HMAC-SHA256 of ``"<t>.<body>"``, as
Stripe signs its webhooks: the time is signed too, so a receiver can refuse a replay of
an old delivery. During a secret rotation every configured secret signs, giving several
``v1=`` values, and a receiver that knows either secret accepts it
(docs/failure-modes.md #11).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

from application.outbound.public_types import public_type
from application.outbox import OutboxMessage

SIGNATURE_HEADER = "Creditline-Signature"


def envelope(message: OutboxMessage) -> bytes:
    """``{id, type, created, user_id, data}``: the same bytes on every attempt."""
    document = {
        "id": message.event_id,
        "type": public_type(message.type),
        "created": int(message.occurred_at.timestamp()),
        "user_id": message.user_id,
        "data": dict(message.payload),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def signature(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digests = (hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets)
    return ",".join([f"t={timestamp}", *(f"v1={d}" for d in digests)])
