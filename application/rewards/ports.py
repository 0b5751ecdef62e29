"""The repositories of the three ways credits are given away: referrals, coupons, trials.

Part of the unit of work (``uow.referrals``, ``uow.coupons``, ``uow.trials``). Every
limit that concurrent requests race for is a method that lets the database decide
in one statement (a unique row or a conditional ``UPDATE``), never a read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.coupon import Coupon, Redemption
from domain.referral import Referral, ReferralStatus
from domain.trial import Trial

if TYPE_CHECKING:
    from application.ports import Page


@dataclass(frozen=True, slots=True)
class StatusTally:
    """How many of a referrer's referrals are in ``status``, and their bonus credits."""

    status: ReferralStatus
    count: int
    bonus_credits: int


class ReferralRepository(Protocol):
    async def add(self, referral: Referral) -> bool:
        """Record the referral (and ``users.referred_by``); False if the user has one."""
        ...

    async def get(self, user_id: str, *, for_update: bool = False) -> Referral | None: ...

    async def save(self, referral: Referral) -> None:
        """Write the decision fields (status, payment, times, bonus entries)."""
        ...

    async def take_use(self, referrer_id: str, max_uses: int) -> bool:
        """Count one paid referral for the referrer, atomically; False at ``max_uses``."""
        ...

    async def release_use(self, referrer_id: str) -> None:
        """Give back a use taken for a referral that a purchase opened earlier made
        ineligible after all."""
        ...

    async def uses(self, referrer_id: str) -> int: ...

    async def tally(self, referrer_id: str) -> Sequence[StatusTally]: ...


class CouponRepository(Protocol):
    async def add(self, coupon: Coupon) -> None:
        """Raises ``CouponCodeTaken`` when the (case-insensitive) code exists."""
        ...

    async def get_by_code(self, code: str, *, for_update: bool = False) -> Coupon | None:
        """``code`` in canonical (upper-case) form."""
        ...

    async def save_terms(self, coupon: Coupon) -> None:
        """Write the terms and ``updated_at``; never the redemption count."""
        ...

    async def list(self, limit: int, cursor: str | None) -> Page[Coupon]:
        """Newest first."""
        ...

    async def claim(self, redemption: Redemption) -> bool:
        """Insert the redemption; False when this user already redeemed this coupon."""
        ...

    async def take_slot(self, coupon_id: str) -> bool:
        """Count one redemption if the coupon is active and below ``max_redemptions``."""
        ...

    async def redemptions_of(
        self, coupon_id: str, limit: int, cursor: str | None
    ) -> Page[Redemption]: ...

    async def history(self, user_id: str, limit: int, cursor: str | None) -> Page[Redemption]:
        """The user's redemptions, newest first."""
        ...


class TrialRepository(Protocol):
    async def start(self, trial: Trial) -> bool:
        """Record the trial; False when its email key already had one."""
        ...

    async def get(self, user_id: str) -> Trial | None: ...

    async def mark_converted(self, user_id: str, now: datetime) -> None:
        """Stamp the first conversion; later purchases change nothing."""
        ...
