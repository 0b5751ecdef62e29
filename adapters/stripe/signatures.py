"""The ``Stripe-Signature`` header: made for the sandbox's events, checked on every delivery.

Both gateways verify here, reading the header exactly as Stripe's library does
(``stripe.WebhookSignature``): items split on ``,`` then on ``=``; the timestamp is
the first ``t`` item read by ``int()`` (so ``+``, surrounding spaces and ``_`` pass);
every ``v1`` item is a candidate signature. The age is measured on that same
timestamp, the one the HMAC covers, so a second ``t=`` cannot make an old event
look fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass

import stripe

from application.webhooks.gateway import InvalidSignature

SIGNATURE_TOLERANCE_SECONDS = 300
SCHEME = "v1"


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            payload.decode("utf-8"), secret, timestamp=timestamp
        )
    )


def parse_header(header: str) -> SignatureHeader:
    items = [item.split("=", 2) for item in header.split(",")]
    try:
        # Every t item is read, as the SDK reads them: a later bare "t" is malformed too.
        timestamp = int([item[1] for item in items if item[0] == "t"][0])  # noqa: RUF015
        signatures = tuple(item[1] for item in items if item[0] == SCHEME)
    except (ValueError, IndexError) as exc:
        raise InvalidSignature("malformed Stripe-Signature header") from exc
    if not signatures:
        raise InvalidSignature(f"Stripe-Signature has no {SCHEME} signature")
    return SignatureHeader(timestamp, signatures)


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Accept the body if any ``v1`` value matches any configured secret (rotation).

    ``now``: the clock the age is measured on (the wall clock by default); a
    ``tolerance`` of 0 measures no age.
    """
    if not header:
        raise InvalidSignature("missing Stripe-Signature header")
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("body is not UTF-8") from exc
    parsed = parse_header(header)
    if not any(_signed_by(payload, parsed, secret) for secret in secrets if secret.strip()):
        raise InvalidSignature("no signature matches a configured webhook secret")
    now = time.time() if now is None else now
    if tolerance and parsed.timestamp < now - tolerance:
        raise InvalidSignature("the signature's timestamp is outside the tolerance")


def _signed_by(payload: bytes, parsed: SignatureHeader, secret: str) -> bool:
    signed = b"%d." % parsed.timestamp + payload
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode()
    return any(hmac.compare_digest(expected, s.encode("utf-8")) for s in parsed.signatures)
