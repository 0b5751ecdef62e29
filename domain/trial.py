"""Free-trial credits: granted once per person at sign-up, expiring after a few days.

"Once per person" is approximated by a normalised email: the same mailbox written
with other case, a ``+tag`` or (at Gmail) extra dots gets no second trial.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import ValidationFailed
from domain.ledger import EntryKind, Posting

# Providers that ignore dots in the local part; googlemail.com is gmail.com.
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def trial_email_key(email: str) -> str:
    """The mailbox an address delivers to: lower-case, no ``+tag``, no Gmail dots."""
    local, _, host = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if host in _DOTLESS:
        local, host = local.replace(".", ""), _DOTLESS[host]
    return f"{local}@{host}"


@dataclass(frozen=True, slots=True)
class TrialTerms:
    """``credits`` 0 turns trials off."""

    credits: int = 0
    days: int = 14

    def __post_init__(self) -> None:
        if self.credits < 0 or self.days < 1:
            raise ValidationFailed("trial credits must be >= 0 and days >= 1")

    @property
    def enabled(self) -> bool:
        return self.credits > 0


class TrialState(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CONVERTED = "converted"


@dataclass(frozen=True, slots=True)
class Trial:
    user_id: str
    email_key: str
    credits: int
    granted_at: datetime
    expires_at: datetime
    converted_at: datetime | None = None

    @classmethod
    def start(cls, user_id: str, email: str, terms: TrialTerms, now: datetime) -> Trial:
        return cls(
            user_id=user_id,
            email_key=trial_email_key(email),
            credits=terms.credits,
            granted_at=now,
            expires_at=now + timedelta(days=terms.days),
        )

    def state(self, now: datetime) -> TrialState:
        """Converted wins: a user who bought is a customer, whatever the clock says."""
        if self.converted_at is not None:
            return TrialState.CONVERTED
        return TrialState.EXPIRED if now >= self.expires_at else TrialState.ACTIVE

    def grant(self) -> Posting:
        return Posting(
            user_id=self.user_id,
            credits=self.credits,
            kind=EntryKind.TRIAL,
            reference_type="trial",
            reference_id=self.user_id,
            idempotency_key=f"trial:{self.user_id}",
            expires_at=self.expires_at,
        )
