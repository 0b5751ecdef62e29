"""Each account's alert settings and flags (``uow.alerts``), and its recent spending."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.alerts import AlertFlags, AlertSettings, AlertState


class AlertRepository(Protocol):
    async def get(self, user_id: str, *, for_update: bool = False) -> AlertState:
        """The user's settings and flags; the defaults (all armed) when never stored."""
        ...

    async def save_settings(self, user_id: str, settings: AlertSettings, now: datetime) -> None:
        """Store new settings, keeping the flags."""
        ...

    async def save_flags(self, user_id: str, flags: AlertFlags, now: datetime) -> None: ...

    async def spent_since(self, user_id: str, since: datetime) -> int:
        """Credits spent (usage debits and hold captures) since ``since``: one range
        of an index on (user, time), however long the history."""
        ...
