"""Referral use cases: apply a code, show one's code and invite link, count results."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.errors import (
    NotFound,
    ReferralAlreadyApplied,
    ReferralCodeExhausted,
    UnknownReferralCode,
)
from domain.referral import (
    Referral,
    ReferralStatus,
    ReferralTerms,
    check_referral_allowed,
    normalise_referral_code,
)
from domain.user import User

INVITE_PATH = "/signup"


def invite_url(frontend_url: str, code: str) -> str:
    """Where a referred friend signs up; the frontend passes ``ref`` to ``POST /api/users``."""
    return f"{frontend_url.rstrip('/')}{INVITE_PATH}?ref={quote(code)}"


async def find_referrer(uow: UnitOfWork, raw_code: str) -> User:
    code = normalise_referral_code(raw_code)
    referrer = await uow.users.find_by_referral_code(code) if code else None
    if referrer is None:
        raise UnknownReferralCode("no user has that referral code")
    return referrer


async def attach_referral(
    uow: UnitOfWork, user: User, referrer: User, terms: ReferralTerms, clock: Clock
) -> Referral:
    """Record that ``referrer`` referred ``user``, inside the caller's transaction.

    The account lock makes this and a first purchase take turns, so a code applied
    "at the same time" as the first purchase is either seen by it or refused.
    """
    await uow.ledger.lock_account(user.id)
    check_referral_allowed(
        user,
        referrer,
        already_referred=await uow.referrals.get(user.id) is not None,
        has_purchased=await uow.payments.has_purchased(user.id),
    )
    # Advisory, for a clear answer now: the cap itself is enforced when the bonus is paid.
    if await uow.referrals.uses(referrer.id) >= terms.max_uses:
        raise ReferralCodeExhausted("this referral code has been used up")
    referral = Referral(user.id, referrer.id, terms, clock.now())
    if not await uow.referrals.add(referral):
        raise ReferralAlreadyApplied("a referral code was already applied; it cannot change")
    return referral


async def apply_referral(
    user: User,
    raw_code: str,
    *,
    terms: ReferralTerms,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> Referral:
    """POST /api/referrals/apply: until the first purchase, once, never one's own code."""
    async with uow_factory() as uow:
        referrer = await find_referrer(uow, raw_code)
        referral = await attach_referral(uow, user, referrer, terms, clock)
        await uow.commit()
    return referral


@dataclass(frozen=True, slots=True)
class ReferralStats:
    referred_users: int
    pending: int
    completed: int
    ineligible: int
    capped: int
    reversed: int
    credits_earned: int
    bonuses_remaining: int


async def referral_stats(
    referrer_id: str, *, terms: ReferralTerms, uow_factory: UnitOfWorkFactory
) -> ReferralStats:
    """``credits_earned`` counts bonuses still standing (reversed ones are not)."""
    async with uow_factory() as uow:
        tallies = {t.status: t for t in await uow.referrals.tally(referrer_id)}
        uses = await uow.referrals.uses(referrer_id)

    def count(status: ReferralStatus) -> int:
        tally = tallies.get(status)
        return tally.count if tally else 0

    rewarded = tallies.get(ReferralStatus.REWARDED)
    return ReferralStats(
        referred_users=sum(t.count for t in tallies.values()),
        pending=count(ReferralStatus.PENDING),
        completed=count(ReferralStatus.REWARDED),
        ineligible=count(ReferralStatus.INELIGIBLE),
        capped=count(ReferralStatus.CAPPED),
        reversed=count(ReferralStatus.REVERSED),
        credits_earned=rewarded.bonus_credits if rewarded else 0,
        bonuses_remaining=max(0, terms.max_uses - uses),
    )


def own_code(user: User) -> str:
    if user.referral_code is None:
        raise NotFound("this user has no referral code")
    return user.referral_code
