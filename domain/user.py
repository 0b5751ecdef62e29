"""Users and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ValidationFailed


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    local, sep, host = email.partition("@")
    if not sep or not local or "." not in host or len(email) > 254 or " " in email:
        raise ValidationFailed(f"'{raw}' is not an email address", code="invalid_email")
    return email


@dataclass(slots=True)
class User:
    id: str
    email: str
    created_at: datetime
    is_admin: bool = False
    referral_code: str | None = None
    referred_by: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: only a hash and a displayable prefix are ever kept."""

    id: str
    user_id: str
    prefix: str
    key_hash: str
    created_at: datetime
    name: str | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
