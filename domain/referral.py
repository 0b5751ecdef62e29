"""Referral codes: 8 characters, upper-case letters and digits without look-alikes."""

from __future__ import annotations

# No O/0, I/1/L: a code read aloud or copied by hand stays unambiguous.
REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8


def normalise_referral_code(raw: str) -> str | None:
    """The canonical form of a code a user typed, or None if it cannot be a code."""
    code = raw.strip().upper()
    if len(code) != REFERRAL_CODE_LENGTH or any(ch not in REFERRAL_ALPHABET for ch in code):
        return None
    return code
