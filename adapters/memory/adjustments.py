"""Admin adjustments in memory; the store's lock already runs units of work in turn."""

from __future__ import annotations

from datetime import datetime

from adapters.memory.state import MemoryState, in_utc, utc
from application.admin.ports import AdminAdjustment


class MemoryAdjustmentLog:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def lock_key(self, admin_key_id: str, now: datetime) -> None:
        self._state.admin_keys[admin_key_id] = utc(now)

    async def granted_since(self, admin_key_id: str, since: datetime) -> int:
        return sum(
            a.credits
            for a in self._state.adjustments.values()
            if a.admin_key_id == admin_key_id and a.credits > 0 and a.created_at >= since
        )

    async def add(self, adjustment: AdminAdjustment) -> None:
        if adjustment.idempotency_key in self._state.adjustments:
            raise ValueError(f"adjustment {adjustment.idempotency_key} already recorded")
        self._state.adjustments[adjustment.idempotency_key] = in_utc(adjustment)

    async def find(self, idempotency_key: str) -> AdminAdjustment | None:
        return self._state.adjustments.get(idempotency_key)
