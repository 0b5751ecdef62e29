"""Admin use cases for coupons: create, change (deactivate too), list, inspect."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.ids import new_id
from application.ports import Clock, Page, UnitOfWork, UnitOfWorkFactory
from application.queries import page_size
from domain.coupon import Coupon, CouponTerms, Redemption, normalise_coupon_code, parse_coupon_code
from domain.errors import CouponNotFound, ValidationFailed

_CHANGEABLE = frozenset(f.name for f in dataclasses.fields(CouponTerms))


@dataclass(frozen=True, slots=True)
class CouponDetails:
    coupon: Coupon
    redemptions: Page[Redemption]


async def create_coupon(
    raw_code: str, terms: CouponTerms, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> Coupon:
    code = parse_coupon_code(raw_code)
    now = clock.now()
    coupon = Coupon(new_id("cpn"), code, terms, created_at=now, updated_at=now)
    async with uow_factory() as uow:
        await _check_user(uow, terms)
        await uow.coupons.add(coupon)
        await uow.commit()
    return coupon


async def update_coupon(
    raw_code: str,
    changes: Mapping[str, Any],
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> Coupon:
    """Change some terms; the new terms are validated as a whole. Past redemptions keep
    what they granted; only later redemptions see the change."""
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}")
    async with uow_factory() as uow:
        coupon = await _get(uow, raw_code, for_update=True)
        coupon.terms = dataclasses.replace(coupon.terms, **changes)
        coupon.updated_at = clock.now()
        await _check_user(uow, coupon.terms)
        await uow.coupons.save_terms(coupon)
        await uow.commit()
    return coupon


async def list_coupons(
    limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> Page[Coupon]:
    async with uow_factory() as uow:
        return await uow.coupons.list(page_size(limit), cursor)


async def get_coupon(
    raw_code: str, limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> CouponDetails:
    """The coupon with one page of its redemptions, newest first."""
    async with uow_factory() as uow:
        coupon = await _get(uow, raw_code)
        redemptions = await uow.coupons.redemptions_of(coupon.id, page_size(limit), cursor)
    return CouponDetails(coupon, redemptions)


async def _get(uow: UnitOfWork, raw_code: str, *, for_update: bool = False) -> Coupon:
    code = normalise_coupon_code(raw_code)
    coupon = await uow.coupons.get_by_code(code, for_update=for_update) if code else None
    if coupon is None:
        raise CouponNotFound("no such coupon")
    return coupon


async def _check_user(uow: UnitOfWork, terms: CouponTerms) -> None:
    if terms.assigned_user_id is not None and await uow.users.get(terms.assigned_user_id) is None:
        raise ValidationFailed("assigned_user_id names no user", code="unknown_user")
