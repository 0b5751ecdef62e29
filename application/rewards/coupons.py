"""Redeeming coupons, and a user's redemption history.

One transaction: the coupon's rules are checked against the clock, then the two
limits that concurrent requests race for are left to the database: the unique
(coupon, user) redemption row and the conditional ``UPDATE`` of the coupon's
redemption count. Losing either rolls the whole redemption back. The debt check reads
the balance under the account lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.credits.grant import grant
from application.ids import new_id
from application.ports import Clock, Page, UnitOfWorkFactory
from application.queries import page_size
from domain.coupon import Redemption, check_not_in_debt, normalise_coupon_code
from domain.errors import CouponAlreadyRedeemed, CouponExhausted, CouponNotFound
from domain.events import CouponRedeemed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Redeemed:
    redemption: Redemption
    balance: int


async def redeem_coupon(
    user_id: str, raw_code: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> Redeemed:
    code = normalise_coupon_code(raw_code)
    now = clock.now()
    async with uow_factory() as uow:
        coupon = await uow.coupons.get_by_code(code) if code else None
        if coupon is None:
            raise CouponNotFound("no such coupon")
        coupon.check_redeemable(user_id, now)
        # The balance is read under the account lock every ledger write takes, so a
        # refund committing meanwhile is seen: a user it put in debt cannot redeem.
        await uow.ledger.lock_account(user_id)
        account = await uow.ledger.account(user_id)
        check_not_in_debt(account.balance if account else 0)
        redemption = Redemption(
            id=new_id("red"),
            coupon_id=coupon.id,
            code=coupon.code,
            user_id=user_id,
            credits=coupon.terms.credits,
            redeemed_at=now,
            credits_expire_at=coupon.credits_expire_at(now),
        )
        if not await uow.coupons.claim(redemption):
            raise CouponAlreadyRedeemed(f"you already redeemed {coupon.code}")
        if not await uow.coupons.take_slot(coupon.id):
            raise CouponExhausted(f"coupon {coupon.code} has no redemptions left")
        entry = await grant(uow, coupon.grant(user_id, now), now)
        if entry is None:
            raise CouponAlreadyRedeemed(f"you already redeemed {coupon.code}")
        uow.record(_redeemed(redemption))
        await uow.commit()
    log.info(
        "coupon_redeemed coupon_id=%s user_id=%s credits=%s", coupon.id, user_id, redemption.credits
    )
    return Redeemed(redemption, entry.balance_after)


def _redeemed(redemption: Redemption) -> CouponRedeemed:
    return CouponRedeemed(
        user_id=redemption.user_id,
        occurred_at=redemption.redeemed_at,
        coupon_id=redemption.coupon_id,
        code=redemption.code,
        redemption_id=redemption.id,
        credits=redemption.credits,
        credits_expire_at=redemption.credits_expire_at,
    )


async def coupon_history(
    user_id: str, limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> Page[Redemption]:
    async with uow_factory() as uow:
        return await uow.coupons.history(user_id, page_size(limit), cursor)
