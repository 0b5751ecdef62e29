"""/api/referrals: apply a code before the first purchase, show one's code and results."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from application.accounts.users import Principal
from application.ports import Clock, UnitOfWorkFactory
from application.rewards.referrals import apply_referral, invite_url, own_code, referral_stats
from domain.credits import credits_as_usd
from domain.referral import normalise_referral_code
from entrypoints.http import reward_schemas as s
from entrypoints.http.params import strict_body
from entrypoints.settings import Settings


class ReferralsController(Controller):
    path = "/api/referrals"
    tags = ["referrals"]

    @post("/apply", status_code=200)
    async def apply(
        self,
        data: JSONBody[s.CodeIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> s.ReferralAppliedOut:
        data = await strict_body(request, s.CodeIn)
        referral = await apply_referral(
            principal.require_user(),
            data.code,
            terms=settings.referral_terms,
            uow_factory=uow_factory,
            clock=clock,
        )
        code = normalise_referral_code(data.code) or data.code
        return s.ReferralAppliedOut(code, referral.status.value, referral.created_at)

    @get("/code")
    async def code(
        self, principal: NamedDependency[Principal], settings: NamedDependency[Settings]
    ) -> s.ReferralCodeOut:
        code = own_code(principal.require_user())
        return s.ReferralCodeOut(code, invite_url(settings.frontend_url, code))

    @get("/stats")
    async def stats(
        self,
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        settings: NamedDependency[Settings],
    ) -> s.ReferralStatsOut:
        user = principal.require_user()
        found = await referral_stats(
            user.id, terms=settings.referral_terms, uow_factory=uow_factory
        )
        return s.ReferralStatsOut(
            code=own_code(user),
            referred_users=found.referred_users,
            pending=found.pending,
            completed=found.completed,
            ineligible=found.ineligible,
            capped=found.capped,
            reversed=found.reversed,
            credits_earned=found.credits_earned,
            credits_earned_usd=credits_as_usd(found.credits_earned),
            bonuses_remaining=found.bonuses_remaining,
        )
