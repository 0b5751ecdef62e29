"""The ``Stripe-Signature`` header: made for the sandbox's events, checked on every delivery."""

from __future__ import annotations

from collections.abc import Sequence

import stripe

from application.webhooks.gateway import InvalidSignature

SIGNATURE_TOLERANCE_SECONDS = 300


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            payload.decode("utf-8"), secret, timestamp=timestamp
        )
    )


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Accept the body if any ``v1=`` value matches any configured secret (rotation)."""
    if not header:
        raise InvalidSignature("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("body is not UTF-8") from exc
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        except (ValueError, IndexError) as exc:
            raise InvalidSignature("malformed Stripe-Signature header") from exc
        return
    raise InvalidSignature("no signature matches a configured webhook secret")
