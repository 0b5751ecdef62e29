"""/api/coupons (redeem, history) and /api/admin/coupons (create, list, inspect, change)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.accounts.users import Principal
from application.ports import Clock, UnitOfWorkFactory
from application.rewards.coupon_admin import create_coupon, get_coupon, list_coupons, update_coupon
from application.rewards.coupons import coupon_history, redeem_coupon
from domain.coupon import CouponTerms
from entrypoints.http import coupon_schemas as s
from entrypoints.http.params import Cursor, Limit, strict_body
from entrypoints.http.reward_schemas import CodeIn


class CouponsController(Controller):
    path = "/api/coupons"
    tags = ["coupons"]

    @post("/redeem", status_code=200)
    async def redeem(
        self,
        data: JSONBody[CodeIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> s.RedeemedOut:
        data = await strict_body(request, CodeIn)
        redeemed = await redeem_coupon(
            principal.require_user().id, data.code, uow_factory=uow_factory, clock=clock
        )
        return s.RedeemedOut.of(redeemed.redemption, redeemed.balance)

    @get("/history")
    async def history(
        self,
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.RedemptionsPage:
        page = await coupon_history(
            principal.require_user().id, limit, cursor, uow_factory=uow_factory
        )
        return s.RedemptionsPage([s.RedemptionOut.of(r) for r in page.items], page.next_cursor)


class AdminCouponsController(Controller):
    path = "/api/admin/coupons"
    tags = ["coupons", "admin"]

    @post("/", status_code=201)
    async def create(
        self,
        data: JSONBody[s.CouponIn],
        request: Request[Any, Any, Any],
        admin: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> s.CouponOut:
        data = await strict_body(request, s.CouponIn)
        terms = CouponTerms(
            credits=data.credits,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            max_redemptions=data.max_redemptions,
            assigned_user_id=data.assigned_user_id,
            credit_expiry_days=data.credit_expiry_days,
            active=data.active,
        )
        coupon = await create_coupon(data.code, terms, uow_factory=uow_factory, clock=clock)
        return s.CouponOut.of(coupon)

    @get("/")
    async def list_all(
        self,
        admin: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.CouponsPage:
        page = await list_coupons(limit, cursor, uow_factory=uow_factory)
        return s.CouponsPage([s.CouponOut.of(c) for c in page.items], page.next_cursor)

    @get("/{code:str}")
    async def details(
        self,
        code: FromPath[str],
        admin: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.CouponDetailsOut:
        found = await get_coupon(code, limit, cursor, uow_factory=uow_factory)
        return s.CouponDetailsOut(
            s.CouponOut.of(found.coupon),
            [s.RedemptionOut.of(r) for r in found.redemptions.items],
            found.redemptions.next_cursor,
        )

    @patch("/{code:str}")
    async def change(
        self,
        code: FromPath[str],
        data: JSONBody[s.CouponPatchIn],
        request: Request[Any, Any, Any],
        admin: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> s.CouponOut:
        data = await strict_body(request, s.CouponPatchIn)
        coupon = await update_coupon(code, data.changes(), uow_factory=uow_factory, clock=clock)
        return s.CouponOut.of(coupon)
