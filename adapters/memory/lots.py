"""Lots in memory: the unspent part of each grant, in the order debits consume them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.memory.state import MemoryState, utc
from adapters.pagination import check_limit
from domain.ledger import Allocation, Lot
from domain.lots import consumption_order


def open_lots_of(state: MemoryState, user_id: str) -> list[Lot]:
    """The user's lots with credits left, in ``domain.lots.consumption_order``."""
    mine = (lot for lot in state.lots.values() if lot.user_id == user_id)
    return sorted((lot for lot in mine if lot.remaining > 0), key=consumption_order)


class MemoryLotRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def lot_for_key(self, idempotency_key: str) -> Lot | None:
        entry = self._state.entries.get(idempotency_key)
        return None if entry is None else self._state.lots.get(entry.id)

    async def open_lots(self, user_id: str) -> Sequence[Lot]:
        return open_lots_of(self._state, user_id)

    async def lots(self, entry_ids: Sequence[int]) -> Sequence[Lot]:
        return [self._state.lots[i] for i in entry_ids if i in self._state.lots]

    async def allocations(self, entry_id: int) -> Sequence[Allocation]:
        return list(self._state.allocations.get(entry_id, ()))

    async def expired_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        check_limit(limit)
        now = utc(now)
        expired = (
            lot
            for lot in self._state.lots.values()
            if lot.expires_at is not None and lot.expires_at <= now and lot.remaining > 0
        )
        return sorted(expired, key=consumption_order)[:limit]
