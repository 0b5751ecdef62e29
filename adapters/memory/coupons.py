"""Coupons and redemptions in memory, with the SQL adapter's semantics and order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from adapters.memory.state import MemoryState, in_utc
from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from application.ports import Page
from domain.coupon import Coupon, Redemption
from domain.errors import CouponCodeTaken

T = TypeVar("T")


class MemoryCouponRepository:
    def __init__(self, state: MemoryState) -> None:
        self._coupons = state.rewards.coupons
        self._redemptions = state.rewards.redemptions

    async def add(self, coupon: Coupon) -> None:
        if coupon.id in self._coupons or self._by_code(coupon.code) is not None:
            raise CouponCodeTaken(f"coupon code {coupon.code} exists")
        self._coupons[coupon.id] = _stored(coupon)

    async def get_by_code(self, code: str, *, for_update: bool = False) -> Coupon | None:
        found = self._by_code(code)
        return None if found is None else copy(found)

    async def save_terms(self, coupon: Coupon) -> None:
        stored = self._coupons[coupon.id]
        self._coupons[coupon.id] = _stored(
            replace(stored, terms=coupon.terms, updated_at=coupon.updated_at)
        )

    async def list(self, limit: int, cursor: str | None) -> Page[Coupon]:
        items, next_cursor = _page(
            self._coupons.values(), lambda c: (c.created_at, c.id), limit, cursor
        )
        return Page([copy(c) for c in items], next_cursor)

    async def claim(self, redemption: Redemption) -> bool:
        if any(
            r.coupon_id == redemption.coupon_id and r.user_id == redemption.user_id
            for r in self._redemptions.values()
        ):
            return False
        self._redemptions[redemption.id] = in_utc(redemption)
        return True

    async def take_slot(self, coupon_id: str) -> bool:
        coupon = self._coupons[coupon_id]
        limit = coupon.terms.max_redemptions
        if limit is not None and coupon.redemptions >= limit:
            return False
        self._coupons[coupon_id] = replace(coupon, redemptions=coupon.redemptions + 1)
        return True

    async def redemptions_of(
        self, coupon_id: str, limit: int, cursor: str | None
    ) -> Page[Redemption]:
        return self._redemption_page(lambda r: r.coupon_id == coupon_id, limit, cursor)

    async def history(self, user_id: str, limit: int, cursor: str | None) -> Page[Redemption]:
        return self._redemption_page(lambda r: r.user_id == user_id, limit, cursor)

    def _redemption_page(
        self, matches: Callable[[Redemption], bool], limit: int, cursor: str | None
    ) -> Page[Redemption]:
        mine = (r for r in self._redemptions.values() if matches(r))
        items, next_cursor = _page(mine, lambda r: (r.redeemed_at, r.id), limit, cursor)
        return Page(items, next_cursor)

    def _by_code(self, code: str) -> Coupon | None:
        return next((c for c in self._coupons.values() if c.code == code), None)


def _stored(coupon: Coupon) -> Coupon:
    return replace(in_utc(coupon), terms=in_utc(coupon.terms))


def _page(
    rows: Iterable[T], key: Callable[[T], tuple[datetime, str]], limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """Newest first, keyset on (time, id), as the SQL adapter pages."""
    check_limit(limit)
    before = decode_time_and_id(cursor) if cursor is not None else None
    ordered = sorted(
        (row for row in rows if before is None or key(row) < before), key=key, reverse=True
    )
    items = ordered[:limit]
    if len(ordered) <= limit:
        return items, None
    at, row_id = key(items[-1])
    return items, encode_cursor(at.isoformat(), row_id)
