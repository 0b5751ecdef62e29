"""/api/coupons (redeem, history) and /api/admin/coupons (create, list, inspect, change)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.accounts.users import Principal
from application.ports import Page
from application.rewards.coupon_admin import CouponDetails
from application.rewards.coupons import Redeemed
from domain.coupon import Coupon, Redemption
from entrypoints.http import coupon_schemas as s
from entrypoints.http.auth import requires_admin
from entrypoints.http.openapi import errors
from entrypoints.http.params import Cursor, Limit, UseCase, strict_body
from entrypoints.http.reward_schemas import CodeIn


class CouponsController(Controller):
    path = "/api/coupons"
    tags = ["coupons"]

    @post("/redeem", status_code=200, responses=errors(404, 409, 422))
    async def redeem(
        self,
        data: JSONBody[CodeIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        redeem_coupon: NamedDependency[UseCase[Redeemed]],
    ) -> s.RedeemedOut:
        data = await strict_body(request, CodeIn)
        return s.RedeemedOut.of(await redeem_coupon(principal.require_user().id, data.code))

    @get("/history")
    async def history(
        self,
        principal: NamedDependency[Principal],
        coupon_history: NamedDependency[UseCase[Page[Redemption]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.RedemptionsPage:
        page = await coupon_history(principal.require_user().id, limit, cursor)
        return s.RedemptionsPage.of(page)


class AdminCouponsController(Controller):
    path = "/api/admin/coupons"
    tags = ["coupons", "admin"]
    guards = [requires_admin]

    @post("/", status_code=201, responses=errors(409))
    async def create(
        self,
        data: JSONBody[s.CouponIn],
        request: Request[Any, Any, Any],
        create_coupon: NamedDependency[UseCase[Coupon]],
    ) -> s.CouponOut:
        data = await strict_body(request, s.CouponIn)
        return s.CouponOut.of(await create_coupon(data.code, data.terms()))

    @get("/")
    async def list_all(
        self,
        list_coupons: NamedDependency[UseCase[Page[Coupon]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.CouponsPage:
        return s.CouponsPage.of(await list_coupons(limit, cursor))

    @get("/{code:str}")
    async def details(
        self,
        code: FromPath[str],
        get_coupon: NamedDependency[UseCase[CouponDetails]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.CouponDetailsOut:
        return s.CouponDetailsOut.of(await get_coupon(code, limit, cursor))

    @patch("/{code:str}", responses=errors(409, 422))
    async def change(
        self,
        code: FromPath[str],
        data: JSONBody[s.CouponPatchIn],
        request: Request[Any, Any, Any],
        update_coupon: NamedDependency[UseCase[Coupon]],
    ) -> s.CouponOut:
        data = await strict_body(request, s.CouponPatchIn)
        return s.CouponOut.of(await update_coupon(code, data.changes()))
