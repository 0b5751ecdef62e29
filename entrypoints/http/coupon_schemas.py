"""Request and response bodies of coupons (msgspec Structs).

A PATCH tells "leave as is" (absent: ``UNSET``) from "clear" (``null``). Datetimes
must carry a time zone: a naive one is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from domain.coupon import MAX_COUPON_CREDITS, MAX_CREDIT_EXPIRY_DAYS, Coupon, Redemption
from domain.credits import credits_as_usd
from entrypoints.http.request_base import Request

CouponCode = Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")]
CouponCredits = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUPON_CREDITS)]
Uses = Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=MAX_CREDIT_EXPIRY_DAYS)]
When = Annotated[datetime, msgspec.Meta(tz=True)]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CouponIn(Request):
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


class CouponPatchIn(Request):
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
        t = c.terms
        return cls(
            c.id,
            c.code,
            t.credits,
            t.valid_from,
            t.valid_until,
            t.max_redemptions,
            c.redemptions,
            t.assigned_user_id,
            t.credit_expiry_days,
            t.active,
            c.created_at,
            c.updated_at,
        )


class CouponsPage(msgspec.Struct):
    coupons: list[CouponOut]
    next_cursor: str | None


class RedemptionOut(msgspec.Struct):
    id: str
    coupon_id: str
    code: str
    user_id: str
    credits: int
    redeemed_at: datetime
    credits_expire_at: datetime | None

    @classmethod
    def of(cls, r: Redemption) -> RedemptionOut:
        return cls(
            r.id, r.coupon_id, r.code, r.user_id, r.credits, r.redeemed_at, r.credits_expire_at
        )


class CouponDetailsOut(msgspec.Struct):
    coupon: CouponOut
    redemptions: list[RedemptionOut]
    next_cursor: str | None


class RedeemedOut(msgspec.Struct):
    redemption: RedemptionOut
    balance: int
    balance_usd: str

    @classmethod
    def of(cls, r: Redemption, balance: int) -> RedeemedOut:
        return cls(RedemptionOut.of(r), balance, credits_as_usd(balance))


class RedemptionsPage(msgspec.Struct):
    redemptions: list[RedemptionOut]
    next_cursor: str | None
