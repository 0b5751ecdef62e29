"""Arranging expiring credits and reading lots for the refund history tests."""

from __future__ import annotations

import secrets

from application.rewards.coupon_admin import create_coupon
from application.rewards.coupons import redeem_coupon
from domain.coupon import CouponTerms
from tests.unit.conftest import App


async def redeem_coupon_worth(app: App, user_id: str, credits: int, *, days: int) -> None:
    """A promotional coupon of ``credits`` that expire ``days`` after redemption."""
    code = f"promo{secrets.token_hex(4)}"
    terms = CouponTerms(credits=credits, credit_expiry_days=days)
    await create_coupon(code, terms, uow_factory=app.store.uow_factory, clock=app.clock)
    await redeem_coupon(user_id, code, uow_factory=app.store.uow_factory, clock=app.clock)


async def open_lots(app: App, user_id: str) -> list[object]:
    """The user's lots with credits left: (kind, remaining, expires_at), in spending order."""
    async with app.store.uow() as uow:
        return [
            (lot.kind, lot.remaining, lot.expires_at) for lot in await uow.ledger.open_lots(user_id)
        ]
