"""Request and response bodies of referrals and trials (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.rewards.referrals import ReferralStats
from domain.credits import credits_as_usd
from domain.referral import Referral, normalise_referral_code
from domain.trial import Trial, TrialState
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CodeIn(RequestBody):
    code: Code


class ReferralAppliedOut(msgspec.Struct):
    code: str
    status: str
    applied_at: datetime

    @classmethod
    def of(cls, raw_code: str, referral: Referral) -> ReferralAppliedOut:
        code = normalise_referral_code(raw_code) or raw_code
        return convert(referral, cls, code=code, applied_at=referral.created_at)


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

    @classmethod
    def of(cls, code: str, stats: ReferralStats) -> ReferralStatsOut:
        usd = credits_as_usd(stats.credits_earned)
        return convert(stats, cls, code=code, credits_earned_usd=usd)


class TrialOut(msgspec.Struct):
    credits: int
    status: TrialState
    granted_at: datetime
    expires_at: datetime
    converted_at: datetime | None

    @classmethod
    def of(cls, t: Trial, now: datetime) -> TrialOut:
        return convert(t, cls, status=t.state(now))
