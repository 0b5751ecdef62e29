"""Referrals in memory, with the SQL adapter's semantics.

The store's lock already serialises units of work, so the locks and the conditional
upsert of the SQL adapter are plain checks here.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from dataclasses import replace

from adapters.memory.state import MemoryState, in_utc
from application.rewards.ports import StatusTally
from domain.referral import Referral, ReferralStatus


class MemoryReferralRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._rows = state.rewards.referrals

    async def add(self, referral: Referral) -> bool:
        if referral.user_id in self._rows:
            return False
        self._rows[referral.user_id] = in_utc(referral)
        user = self._state.users.get(referral.user_id)
        if user is not None and user.referred_by is None:
            self._state.users[user.id] = replace(user, referred_by=referral.referrer_id)
        return True

    async def get(self, user_id: str, *, for_update: bool = False) -> Referral | None:
        found = self._rows.get(user_id)
        return None if found is None else copy(found)

    async def save(self, referral: Referral) -> None:
        stored = self._rows[referral.user_id]
        self._rows[referral.user_id] = in_utc(
            replace(
                stored,
                status=referral.status,
                payment_id=referral.payment_id,
                decided_at=referral.decided_at,
                reversed_at=referral.reversed_at,
                reversals=referral.reversals,
            )
        )

    async def take_use(self, referrer_id: str, max_uses: int) -> bool:
        uses = self._state.rewards.referral_uses.get(referrer_id, 0)
        if uses >= max_uses:
            return False
        self._state.rewards.referral_uses[referrer_id] = uses + 1
        return True

    async def release_use(self, referrer_id: str) -> None:
        uses = self._state.rewards.referral_uses.get(referrer_id, 0)
        self._state.rewards.referral_uses[referrer_id] = max(0, uses - 1)

    async def uses(self, referrer_id: str) -> int:
        return self._state.rewards.referral_uses.get(referrer_id, 0)

    async def tally(self, referrer_id: str) -> Sequence[StatusTally]:
        counts: dict[ReferralStatus, tuple[int, int]] = {}
        for referral in self._rows.values():
            if referral.referrer_id == referrer_id:
                count, bonus = counts.get(referral.status, (0, 0))
                counts[referral.status] = (count + 1, bonus + referral.terms.bonus_credits)
        return [StatusTally(status, c, b) for status, (c, b) in counts.items()]
