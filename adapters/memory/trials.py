"""Trials in memory: keyed by normalised email, as the SQL table's primary key."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapters.memory.state import MemoryState, in_utc, utc
from domain.trial import Trial


class MemoryTrialRepository:
    def __init__(self, state: MemoryState) -> None:
        self._rows = state.rewards.trials

    async def start(self, trial: Trial) -> bool:
        taken = trial.email_key in self._rows or self._find(trial.user_id) is not None
        if taken:
            return False
        self._rows[trial.email_key] = in_utc(trial)
        return True

    async def get(self, user_id: str) -> Trial | None:
        return self._find(user_id)

    async def mark_converted(self, user_id: str, now: datetime) -> None:
        trial = self._find(user_id)
        if trial is not None and trial.converted_at is None:
            self._rows[trial.email_key] = replace(trial, converted_at=utc(now))

    def _find(self, user_id: str) -> Trial | None:
        return next((t for t in self._rows.values() if t.user_id == user_id), None)
