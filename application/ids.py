"""Identifiers and secrets made by the service: random, prefixed, URL-safe."""

from __future__ import annotations

import hashlib
import secrets

from domain.referral import REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_api_key() -> str:
    """A key with 256 bits of entropy; only its hash is ever stored."""
    return f"cl_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """SHA-256 suffices: keys are random, not passwords, so no slow hash is needed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
