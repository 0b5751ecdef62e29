"""``POST /api/credits/debit``: spend a user's available credits, once per key.

A refused debit rolls back, so it records nothing (its key stays free for a retry);
a replayed key answers what its first request answered.
"""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.spending.spend import DebitResult, spend
from domain.errors import DomainError
from domain.spending import Debit


async def debit(request: Debit, *, uow_factory: UnitOfWorkFactory, clock: Clock) -> DebitResult:
    async with uow_factory() as uow:
        (outcome,) = await spend(uow, request.user_id, [request], clock.now())
        if isinstance(outcome, DomainError):
            raise outcome
        await uow.commit()
    return outcome
