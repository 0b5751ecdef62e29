"""Coupons on the memory adapters: admin life cycle, redemption rules and history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.rewards.coupon_admin import create_coupon, get_coupon, list_coupons, update_coupon
from application.rewards.coupons import coupon_history, redeem_coupon
from domain.coupon import Coupon, CouponTerms
from domain.errors import (
    CouponAlreadyRedeemed,
    CouponBlockedByDebt,
    CouponCodeTaken,
    CouponExhausted,
    CouponInactive,
    CouponNotAssigned,
    CouponNotFound,
    DomainError,
    ValidationFailed,
)
from domain.ledger import EntryKind, Posting
from tests.unit.conftest import App
from tests.unit.rewards_helpers import buy, refund, sign_up


async def new_coupon(app: App, code: str = "welcome", **terms: object) -> Coupon:
    full = CouponTerms(**{"credits": 500, **terms})
    return await create_coupon(code, full, uow_factory=app.store.uow_factory, clock=app.clock)


async def redeem(app: App, user_id: str, code: str = "WELCOME") -> int:
    redeemed = await redeem_coupon(
        user_id, code, uow_factory=app.store.uow_factory, clock=app.clock
    )
    return redeemed.balance


async def change(app: App, coupon_code: str, **changes: object) -> Coupon:
    return await update_coupon(
        coupon_code, changes, uow_factory=app.store.uow_factory, clock=app.clock
    )


async def test_a_redemption_grants_once_per_user_with_its_key(app: App) -> None:
    coupon = await new_coupon(app, credit_expiry_days=30)
    user = (await sign_up(app)).user
    assert await redeem(app, user.id, " welcome ") == 500
    with pytest.raises(CouponAlreadyRedeemed):
        await redeem(app, user.id)
    (entry,) = app.entries(user.id)
    assert entry.idempotency_key == f"coupon:{coupon.id}:{user.id}"
    assert entry.kind is EntryKind.COUPON
    assert entry.expires_at == app.clock.now() + timedelta(days=30)
    assert app.store.state.rewards.coupons[coupon.id].redemptions == 1


async def test_max_redemptions_is_global(app: App) -> None:
    await new_coupon(app, max_redemptions=2)
    users = [(await sign_up(app)).user for _ in range(3)]
    await redeem(app, users[0].id)
    await redeem(app, users[1].id)
    with pytest.raises(CouponExhausted):
        await redeem(app, users[2].id)
    assert app.balance(users[2].id) == 0
    assert len(app.store.state.rewards.redemptions) == 2


async def test_each_rule_has_its_error(app: App) -> None:
    user, other = (await sign_up(app)).user, (await sign_up(app)).user
    with pytest.raises(CouponNotFound):
        await redeem(app, user.id, "nope")
    with pytest.raises(CouponNotFound):
        await redeem(app, user.id, "!!")
    await new_coupon(app, "mine", assigned_user_id=other.id)
    with pytest.raises(CouponNotAssigned):
        await redeem(app, user.id, "MINE")
    assert await redeem(app, other.id, "mine") == 500
    await new_coupon(app, "later", valid_from=app.clock.now() + timedelta(days=1))
    with pytest.raises(DomainError, match="valid from") as raised:
        await redeem(app, user.id, "later")
    assert raised.value.code == "coupon_not_yet_valid"
    await new_coupon(app, "gone", valid_until=app.clock.now())
    with pytest.raises(DomainError) as raised:
        await redeem(app, user.id, "gone")
    assert raised.value.code == "coupon_expired"


async def test_users_in_debt_cannot_redeem(app: App) -> None:
    await new_coupon(app)
    user = (await sign_up(app)).user
    payment = await buy(app, user.id)
    async with app.store.uow() as uow:
        debit = Posting(user.id, -1000, EntryKind.USAGE_DEBIT, "request", "r1", "use:1")
        await uow.ledger.post(debit, app.clock.now())
        await uow.commit()
    await refund(app, payment, 1000)
    assert app.balance(user.id) == -1000
    with pytest.raises(CouponBlockedByDebt):
        await redeem(app, user.id)
    assert app.store.state.rewards.redemptions == {}


async def test_admin_changes_and_deactivates(app: App) -> None:
    await new_coupon(app)
    with pytest.raises(CouponCodeTaken):
        await new_coupon(app, "WELCOME")
    user = (await sign_up(app)).user
    changed = await change(app, "welcome", credits=700, active=False)
    assert (changed.terms.credits, changed.terms.active) == (700, False)
    with pytest.raises(CouponInactive):
        await redeem(app, user.id)
    await change(app, "WELCOME", active=True, valid_until=None)
    assert await redeem(app, user.id) == 700
    with pytest.raises(ValidationFailed):
        await change(app, "WELCOME", credits=0)
    with pytest.raises(ValidationFailed):
        await change(app, "WELCOME", code="OTHER")
    with pytest.raises(ValidationFailed, match="user"):
        await change(app, "WELCOME", assigned_user_id="usr_nobody")
    with pytest.raises(CouponNotFound):
        await change(app, "missing", active=False)


async def test_listing_details_and_history_are_paginated_newest_first(app: App) -> None:
    for n in range(3):
        await new_coupon(app, f"code-{n}")
        app.clock.advance(timedelta(minutes=1))
    page = await list_coupons(2, None, uow_factory=app.store.uow_factory)
    assert [c.code for c in page.items] == ["CODE-2", "CODE-1"]
    rest = await list_coupons(2, page.next_cursor, uow_factory=app.store.uow_factory)
    assert [c.code for c in rest.items] == ["CODE-0"] and rest.next_cursor is None

    user, other = (await sign_up(app)).user, (await sign_up(app)).user
    for code in ("code-0", "code-1", "code-2"):
        await redeem(app, user.id, code)
        app.clock.advance(timedelta(minutes=1))
    await redeem(app, other.id, "code-0")
    history = await coupon_history(user.id, 2, None, uow_factory=app.store.uow_factory)
    assert [r.code for r in history.items] == ["CODE-2", "CODE-1"]
    more = await coupon_history(user.id, 2, history.next_cursor, uow_factory=app.store.uow_factory)
    assert [r.code for r in more.items] == ["CODE-0"]
    details = await get_coupon("code-0", None, None, uow_factory=app.store.uow_factory)
    assert [r.user_id for r in details.redemptions.items] == [other.id, user.id]
    assert details.coupon.redemptions == 2
