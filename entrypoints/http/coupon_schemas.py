"""Request and response bodies of coupons (msgspec Structs).

A PATCH tells "leave as is" (absent: ``UNSET``) from "clear" (``null``). Datetimes
must carry a time zone: a naive one is refused rather than guessed. A coupon's terms
are shown flattened into it; a redemption is shown as it is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from application.ports import Page
from application.rewards.coupon_admin import CouponDetails
from application.rewards.coupons import Redeemed
from domain.coupon import (
    MAX_COUPON_CREDITS,
    MAX_CREDIT_EXPIRY_DAYS,
    Coupon,
    CouponTerms,
    Redemption,
)
from domain.credits import credits_as_usd
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody

CouponCode = Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")]
CouponCredits = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUPON_CREDITS)]
Uses = Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=MAX_CREDIT_EXPIRY_DAYS)]
When = Annotated[datetime, msgspec.Meta(tz=True)]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CouponIn(RequestBody):
    code: CouponCode
    credits: CouponCredits
    valid_from: When | None = None
    valid_until: When | None = None
    max_redemptions: Uses | None = None
    assigned_user_id: UserId | None = None
    credit_expiry_days: Days | None = None
    active: bool = True

    def __post_init__(self) -> None:
        _storable(self.valid_from, self.valid_until)

    def terms(self) -> CouponTerms:
        return CouponTerms(
            credits=self.credits,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_redemptions=self.max_redemptions,
            assigned_user_id=self.assigned_user_id,
            credit_expiry_days=self.credit_expiry_days,
            active=self.active,
        )


class CouponPatchIn(RequestBody):
    credits: CouponCredits | UnsetType = UNSET
    valid_from: When | UnsetType | None = UNSET
    valid_until: When | UnsetType | None = UNSET
    max_redemptions: Uses | UnsetType | None = UNSET
    assigned_user_id: UserId | UnsetType | None = UNSET
    credit_expiry_days: Days | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        _storable(self.valid_from, self.valid_until)

    def changes(self) -> dict[str, object]:
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET
        }


def _storable(*moments: object) -> None:
    """Times are stored in UTC: one that leaves the calendar there is a bad request.

    ``9999-12-31T23:59:59-23:59`` is valid ISO 8601 but past year 9999 in UTC. A
    ValueError here becomes msgspec's ValidationError, so the client gets a 400.
    """
    for moment in moments:
        if isinstance(moment, datetime):
            try:
                moment.astimezone(UTC)
            except OverflowError:
                raise ValueError(f"{moment.isoformat()} is out of range in UTC") from None


class CouponOut(msgspec.Struct):
    id: str
    code: str
    credits: int
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    redemptions: int
    assigned_user_id: str | None
    credit_expiry_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, c: Coupon) -> CouponOut:
        return convert(
            c.terms,
            cls,
            id=c.id,
            code=c.code,
            redemptions=c.redemptions,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class CouponsPage(msgspec.Struct):
    coupons: list[CouponOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Coupon]) -> CouponsPage:
        return cls([CouponOut.of(c) for c in page.items], page.next_cursor)


class CouponDetailsOut(msgspec.Struct):
    coupon: CouponOut
    redemptions: list[Redemption]
    next_cursor: str | None

    @classmethod
    def of(cls, found: CouponDetails) -> CouponDetailsOut:
        page = found.redemptions
        return cls(CouponOut.of(found.coupon), list(page.items), page.next_cursor)


class RedeemedOut(msgspec.Struct):
    redemption: Redemption
    balance: int
    balance_usd: str

    @classmethod
    def of(cls, redeemed: Redeemed) -> RedeemedOut:
        balance = redeemed.balance
        return cls(redeemed.redemption, balance, credits_as_usd(balance))


class RedemptionsPage(msgspec.Struct):
    redemptions: list[Redemption]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Redemption]) -> RedemptionsPage:
        return cls(list(page.items), page.next_cursor)
