"""Alert settings and flags in memory, as ``adapters.sqlalchemy.alerts``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapters.memory.ledger import spent_since
from adapters.memory.state import MemoryState
from domain.alerts import AlertFlags, AlertSettings, AlertState


class MemoryAlertRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def get(self, user_id: str, *, for_update: bool = False) -> AlertState:
        return self._state.alerts.get(user_id, AlertState())

    async def save_settings(self, user_id: str, settings: AlertSettings, now: datetime) -> None:
        current = self._state.alerts.get(user_id, AlertState())
        self._state.alerts[user_id] = replace(current, settings=settings)

    async def save_flags(self, user_id: str, flags: AlertFlags, now: datetime) -> None:
        current = self._state.alerts.get(user_id, AlertState())
        self._state.alerts[user_id] = replace(current, flags=flags)

    async def spent_since(self, user_id: str, since: datetime) -> int:
        return spent_since(self._state, user_id, since)
