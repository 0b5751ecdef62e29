"""The refund-request rows (``RefundLog``'s attempts) on memory, SQLite and PostgreSQL.

The database decides which of two requests records a row: the (payment, number) key
and the client's Idempotency-Key are unique, and a loser is told, not raised at.
"""

from __future__ import annotations

from datetime import UTC, datetime

from application.refunds.attempts import RefundAttempt
from application.refunds.gateway import RefundStatus
from tests.integration import test_repository_contract as contract
from tests.integration.test_repository_contract import Backend

# The same three backends as the repository contract.
backend_url = contract.backend_url
backend = contract.backend

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def attempt(payment_id: str, number: int, key: str | None = None) -> RefundAttempt:
    return RefundAttempt(payment_id, number, key, None, 400, "duplicate", NOW)


async def test_a_number_or_a_client_key_is_recorded_once(backend: Backend) -> None:
    async with backend.uow() as uow:
        assert await uow.refunds.start_attempt(attempt("p1", 1, "k1")) is True
        assert await uow.refunds.start_attempt(attempt("p1", 1)) is False
        assert await uow.refunds.start_attempt(attempt("p2", 1, "k1")) is False
        assert await uow.refunds.start_attempt(attempt("p1", 2)) is True
        assert await uow.refunds.start_attempt(attempt("p1", 3)) is True  # keys may be absent
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.refunds.attempt_for_key("k1") == attempt("p1", 1, "k1")
        assert await uow.refunds.attempt_for_key("k2") is None
        assert [a.number for a in await uow.refunds.attempts("p1")] == [1, 2, 3]
        assert await uow.refunds.attempts("p2") == []


async def test_an_answer_is_kept_and_a_refused_request_is_forgotten(backend: Backend) -> None:
    first, second = attempt("p1", 1, "k1"), attempt("p1", 2, "k2")
    answered = first.answered("re_1", RefundStatus.PENDING, 400)
    async with backend.uow() as uow:
        await uow.refunds.start_attempt(first)
        await uow.refunds.start_attempt(second)
        await uow.commit()
    async with backend.uow() as uow:
        await uow.refunds.save_attempt(answered)
        await uow.refunds.drop_attempt(second)
        await uow.refunds.save_attempt(attempt("p9", 1).lost())  # no such row: nothing
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.refunds.attempts("p1") == [answered]
        assert await uow.refunds.attempt_for_key("k2") is None
        assert await uow.refunds.attempts("p9") == []
