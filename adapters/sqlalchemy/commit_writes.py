"""Writes a unit of work holds back until it commits, to send them in fewer statements.

A gateway event's outcome is known once its handler has run, just before the commit
that also writes the outbox rows: on PostgreSQL both go in one statement (the outcome
as a data-modifying ``WITH``), which saves the webhook path a round trip. Nothing reads
an outcome in the transaction that sets it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.tables import processed_events

SET_OUTCOME = (
    update(processed_events)
    .where(processed_events.c.event_id == bindparam("where_event_id"))
    .values(outcome=bindparam("new_outcome"), detail=bindparam("new_detail"))
)


class HeldOutcome:
    """The outcome of the event claimed in this transaction, until it is written."""

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None

    def hold(self, event_id: str, outcome: str, detail: str | None) -> None:
        self.params = {"where_event_id": event_id, "new_outcome": outcome, "new_detail": detail}

    def take(self) -> dict[str, Any] | None:
        params, self.params = self.params, None
        return params

    async def flush(self, conn: AsyncConnection) -> None:
        """Write what is still held (nothing went to the outbox with it)."""
        params = self.take()
        if params is not None:
            await conn.execute(SET_OUTCOME, params)
