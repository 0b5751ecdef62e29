"""The in-memory tables of referrals, coupons and trials, one field of ``MemoryState``.

Copied with the rest of the state for each unit of work; ``Referral`` and ``Coupon``
are mutable, so the repositories copy them whenever they cross the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.coupon import Coupon, Redemption
from domain.referral import Referral
from domain.trial import Trial


@dataclass(slots=True)
class RewardsState:
    referrals: dict[str, Referral] = field(default_factory=dict)  # by referred user id
    referral_uses: dict[str, int] = field(default_factory=dict)  # by referrer id
    coupons: dict[str, Coupon] = field(default_factory=dict)  # by id
    redemptions: dict[str, Redemption] = field(default_factory=dict)  # by id
    trials: dict[str, Trial] = field(default_factory=dict)  # by email key

    def copy(self) -> RewardsState:
        return RewardsState(
            referrals=dict(self.referrals),
            referral_uses=dict(self.referral_uses),
            coupons=dict(self.coupons),
            redemptions=dict(self.redemptions),
            trials=dict(self.trials),
        )
