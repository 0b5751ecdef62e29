"""/api/referrals: apply a code before the first purchase, show one's code and results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from application.accounts.users import Principal
from application.rewards.referrals import ReferralStats, own_code
from domain.referral import Referral
from entrypoints.http import reward_schemas as s
from entrypoints.http.openapi import errors
from entrypoints.http.params import UseCase, strict_body


class ReferralsController(Controller):
    path = "/api/referrals"
    tags = ["referrals"]

    @post("/apply", status_code=200, responses=errors(409, 422))
    async def apply(
        self,
        data: JSONBody[s.CodeIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        apply_referral: NamedDependency[UseCase[Referral]],
    ) -> s.ReferralAppliedOut:
        data = await strict_body(request, s.CodeIn)
        referral = await apply_referral(principal.require_user(), data.code)
        return s.ReferralAppliedOut.of(data.code, referral)

    @get("/code")
    async def code(
        self,
        principal: NamedDependency[Principal],
        invite_url: NamedDependency[Callable[[str], str]],
    ) -> s.ReferralCodeOut:
        code = own_code(principal.require_user())
        return s.ReferralCodeOut(code, invite_url(code))

    @get("/stats")
    async def stats(
        self,
        principal: NamedDependency[Principal],
        referral_stats: NamedDependency[UseCase[ReferralStats]],
    ) -> s.ReferralStatsOut:
        user = principal.require_user()
        return s.ReferralStatsOut.of(own_code(user), await referral_stats(user.id))
