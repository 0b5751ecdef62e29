"""Admin refund requests in memory, keyed as the SQL table is: (payment, number), and
the client's Idempotency-Key unique across payments."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.memory.state import MemoryState, in_utc
from application.refunds.attempts import RefundAttempt


class MemoryRefundAttempts:
    _state: MemoryState

    async def start_attempt(self, attempt: RefundAttempt) -> bool:
        taken = self._state.refund_attempts
        if (attempt.payment_id, attempt.number) in taken:
            return False
        if attempt.client_key is not None and await self.attempt_for_key(attempt.client_key):
            return False
        taken[attempt.payment_id, attempt.number] = in_utc(attempt)
        return True

    async def attempt_for_key(self, client_key: str) -> RefundAttempt | None:
        found = self._state.refund_attempts.values()
        return next((a for a in found if a.client_key == client_key), None)

    async def attempts(self, payment_id: str) -> Sequence[RefundAttempt]:
        found = self._state.refund_attempts.values()
        return sorted((a for a in found if a.payment_id == payment_id), key=lambda a: a.number)

    async def save_attempt(self, attempt: RefundAttempt) -> None:
        key = (attempt.payment_id, attempt.number)
        if key in self._state.refund_attempts:
            self._state.refund_attempts[key] = in_utc(attempt)

    async def drop_attempt(self, attempt: RefundAttempt) -> None:
        self._state.refund_attempts.pop((attempt.payment_id, attempt.number), None)
