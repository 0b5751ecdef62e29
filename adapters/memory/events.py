"""Processed gateway events and seen refunds in memory, keyed as the SQL tables are.

A key already present means "already recorded", as a unique-index conflict does on SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.refund_attempts import MemoryRefundAttempts
from adapters.memory.state import MemoryState, ProcessedEvent, RefundRecord, utc
from application.ports import RecordedRefund
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent


class MemoryEventLog:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def claim(self, event: GatewayEvent, received_at: datetime) -> bool:
        if event.event_id in self._state.events:
            return False
        self._state.events[event.event_id] = ProcessedEvent(
            event.event_id, event.type, utc(received_at), event.livemode
        )
        return True

    async def set_outcome(self, event_id: str, outcome: str, detail: str | None) -> None:
        recorded = self._state.events.get(event_id)
        if recorded is not None:
            self._state.events[event_id] = replace(recorded, outcome=str(outcome), detail=detail)


class MemoryRefundLog(MemoryRefundAttempts):
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(
        self,
        refund: GatewayRefund,
        payment_id: str,
        user_id: str,
        credits_reversed: int,
        now: datetime,
    ) -> bool:
        if refund.refund_id in self._state.refunds:
            return False
        self._state.refunds[refund.refund_id] = RefundRecord(
            refund.refund_id,
            payment_id,
            user_id,
            refund.amount,
            refund.currency,
            refund.status.value,
            credits_reversed,
            utc(now),
        )
        return True

    async def credits_reversed(self, refund_id: str) -> int | None:
        recorded = self._state.refunds.get(refund_id)
        return None if recorded is None else recorded.credits_reversed

    async def get(self, refund_id: str) -> RecordedRefund | None:
        recorded = self._state.refunds.get(refund_id)
        return None if recorded is None else _recorded(recorded)

    async def set_status(self, refund_id: str, status: RefundStatus) -> None:
        recorded = self._state.refunds.get(refund_id)
        if recorded is not None:
            self._state.refunds[refund_id] = replace(recorded, status=status.value)

    async def for_payment(self, payment_id: str) -> Sequence[RecordedRefund]:
        return [
            _recorded(recorded)
            for recorded in self._state.refunds.values()
            if recorded.payment_id == payment_id
        ]


def _recorded(record: RefundRecord) -> RecordedRefund:
    return RecordedRefund(
        record.refund_id,
        record.payment_id,
        record.amount,
        RefundStatus(record.status),
        record.credits_reversed,
    )
