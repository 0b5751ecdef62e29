"""Coupons and their redemptions on SQL.

The two raced limits are single statements: ``claim`` inserts the redemption with
``ON CONFLICT (coupon_id, user_id) DO NOTHING`` (a second request of the same user
waits on the unique index, then finds the row), and ``take_slot`` is ``UPDATE coupons
SET redemptions = redemptions + 1 WHERE redemptions < max_redemptions RETURNING``:
concurrent redeemers queue on the coupon row and PostgreSQL re-checks the condition
on the row each one finally sees (docs/failure-modes.md #4).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Row, Select, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.tables import coupon_redemptions, coupons
from application.ports import Page
from domain.coupon import Coupon, CouponTerms, Redemption
from domain.errors import CouponCodeTaken

_TERMS = tuple(CouponTerms.__dataclass_fields__)


class SqlCouponRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def add(self, coupon: Coupon) -> None:
        statement = (
            self._insert(coupons)
            .values(_to_row(coupon))
            .on_conflict_do_nothing()
            .returning(coupons.c.id)
        )
        if (await self._conn.execute(statement)).first() is None:
            raise CouponCodeTaken(f"coupon code {coupon.code} exists")

    async def get_by_code(self, code: str, *, for_update: bool = False) -> Coupon | None:
        statement = select(coupons).where(coupons.c.code == code)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _from_row(row)

    async def save_terms(self, coupon: Coupon) -> None:
        values = {name: getattr(coupon.terms, name) for name in _TERMS}
        await self._conn.execute(
            update(coupons)
            .where(coupons.c.id == coupon.id)
            .values(**values, updated_at=coupon.updated_at)
        )

    async def list(self, limit: int, cursor: str | None) -> Page[Coupon]:
        rows, next_cursor = await self._page(select(coupons), coupons.c.created_at, limit, cursor)
        return Page([_from_row(row) for row in rows], next_cursor)

    async def claim(self, redemption: Redemption) -> bool:
        statement = (
            self._insert(coupon_redemptions)
            .values(asdict(redemption))
            .on_conflict_do_nothing(index_elements=["coupon_id", "user_id"])
            .returning(coupon_redemptions.c.id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def take_slot(self, coupon_id: str) -> bool:
        statement = (
            update(coupons)
            .where(
                coupons.c.id == coupon_id,
                or_(
                    coupons.c.max_redemptions.is_(None),
                    coupons.c.redemptions < coupons.c.max_redemptions,
                ),
            )
            .values(redemptions=coupons.c.redemptions + 1)
            .returning(coupons.c.redemptions)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def redemptions_of(
        self, coupon_id: str, limit: int, cursor: str | None
    ) -> Page[Redemption]:
        mine = select(coupon_redemptions).where(coupon_redemptions.c.coupon_id == coupon_id)
        return await self._redemptions(mine, limit, cursor)

    async def history(self, user_id: str, limit: int, cursor: str | None) -> Page[Redemption]:
        mine = select(coupon_redemptions).where(coupon_redemptions.c.user_id == user_id)
        return await self._redemptions(mine, limit, cursor)

    async def _redemptions(
        self, statement: Select[Any], limit: int, cursor: str | None
    ) -> Page[Redemption]:
        at = coupon_redemptions.c.redeemed_at
        rows, next_cursor = await self._page(statement, at, limit, cursor)
        return Page([Redemption(**row._mapping) for row in rows], next_cursor)

    async def _page(
        self, statement: Select[Any], at: Any, limit: int, cursor: str | None
    ) -> tuple[list[Row[Any]], str | None]:
        """Newest first, keyset on (time, id): the cursor is the last row's pair."""
        check_limit(limit)
        row_id = statement.selected_columns.id
        statement = statement.order_by(at.desc(), row_id.desc()).limit(limit + 1)
        if cursor is not None:
            statement = statement.where(tuple_(at, row_id) < decode_time_and_id(cursor))
        rows = list((await self._conn.execute(statement)).all())
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last._mapping[at.name].isoformat(), last.id)


def _to_row(coupon: Coupon) -> dict[str, Any]:
    return {
        "id": coupon.id,
        "code": coupon.code,
        **{name: getattr(coupon.terms, name) for name in _TERMS},
        "redemptions": coupon.redemptions,
        "created_at": coupon.created_at,
        "updated_at": coupon.updated_at,
    }


def _from_row(row: Row[Any]) -> Coupon:
    fields = row._mapping
    return Coupon(
        id=fields["id"],
        code=fields["code"],
        terms=CouponTerms(**{name: fields[name] for name in _TERMS}),
        created_at=fields["created_at"],
        redemptions=fields["redemptions"],
        updated_at=fields["updated_at"],
    )
