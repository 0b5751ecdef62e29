"""Request and response bodies of referrals and trials (msgspec Structs).

Requests forbid unknown fields, as every request here does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.trial import Trial, TrialState
from entrypoints.http.request_base import Request

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CodeIn(Request):
    code: Code


class ReferralAppliedOut(msgspec.Struct):
    code: str
    status: str
    applied_at: datetime


class ReferralCodeOut(msgspec.Struct):
    code: str
    invite_url: str


class ReferralStatsOut(msgspec.Struct):
    code: str
    referred_users: int
    pending: int
    completed: int
    ineligible: int
    capped: int
    reversed: int
    credits_earned: int
    credits_earned_usd: str
    bonuses_remaining: int


class TrialOut(msgspec.Struct):
    credits: int
    status: TrialState
    granted_at: datetime
    expires_at: datetime
    converted_at: datetime | None

    @classmethod
    def of(cls, t: Trial, now: datetime) -> TrialOut:
        return cls(t.credits, t.state(now), t.granted_at, t.expires_at, t.converted_at)
