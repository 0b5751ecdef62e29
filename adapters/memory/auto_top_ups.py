"""Auto top-up settings and requests in memory, as ``adapters.sqlalchemy.auto_top_ups``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc
from domain.auto_top_up import IN_FLIGHT, AutoTopUp, AutoTopUpSettings, TopUpStatus

_COUNTED = (*IN_FLIGHT, TopUpStatus.SUCCEEDED)


class MemoryAutoTopUpRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def settings(self, user_id: str, *, for_update: bool = False) -> AutoTopUpSettings | None:
        return self._state.auto_top_up_settings.get(user_id)

    async def save_settings(self, user_id: str, settings: AutoTopUpSettings, now: datetime) -> None:
        self._state.auto_top_up_settings[user_id] = settings

    async def request(self, top_up: AutoTopUp, monthly_limit: int, since: datetime) -> bool:
        mine = [t for t in self._state.auto_top_ups.values() if t.user_id == top_up.user_id]
        if any(t.in_flight for t in mine):
            return False
        spent = sum(t.amount for t in mine if t.created_at >= since and t.status in _COUNTED)
        if spent + top_up.amount > monthly_limit:
            return False
        self._state.auto_top_ups[top_up.id] = in_utc(top_up)
        return True

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[AutoTopUp]:
        due = sorted(
            (
                t
                for t in self._state.auto_top_ups.values()
                if t.status is TopUpStatus.REQUESTED and t.next_attempt_at <= now
            ),
            key=lambda t: (t.next_attempt_at, t.id),
        )[:limit]
        for top_up in due:
            self._state.auto_top_ups[top_up.id] = replace(top_up, next_attempt_at=lease_until)
        return due

    async def get(self, top_up_id: str, *, for_update: bool = False) -> AutoTopUp | None:
        return self._state.auto_top_ups.get(top_up_id)

    async def by_checkout_payment(
        self, payment_id: str, *, for_update: bool = False
    ) -> AutoTopUp | None:
        found = (
            t for t in self._state.auto_top_ups.values() if t.checkout_payment_id == payment_id
        )
        return next(found, None)

    async def save(self, top_up: AutoTopUp) -> None:
        self._state.auto_top_ups[top_up.id] = in_utc(top_up)

    async def since(self, user_id: str, since: datetime) -> Sequence[AutoTopUp]:
        mine = (
            t
            for t in self._state.auto_top_ups.values()
            if t.user_id == user_id and t.created_at >= since
        )
        return sorted(mine, key=lambda t: (t.created_at, t.id))
