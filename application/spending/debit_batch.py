"""``POST /api/credits/debits``: up to 1,000 debits, each with its own key and result.

The ledger's rule is one user per write transaction (docs/ledger.md), so the batch
is grouped by user, in order of first appearance: one transaction per user, with a
constant number of statements whatever the number of its debits. Within a user the
debits apply in the order given; a refused one does not refuse the others. Users'
transactions run ``concurrency`` at a time, each on its own connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from application.ports import Clock, UnitOfWorkFactory
from application.spending.spend import Outcome, spend
from domain.spending import Debit, check_batch

CONCURRENCY = 4


async def debit_batch(
    debits: Sequence[Debit],
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    concurrency: int = CONCURRENCY,
) -> list[Outcome]:
    check_batch(debits)
    by_user: dict[str, list[int]] = {}
    for index, item in enumerate(debits):
        by_user.setdefault(item.user_id, []).append(index)
    outcomes: list[Outcome | None] = [None] * len(debits)
    gate = asyncio.Semaphore(concurrency)

    async def one_user(user_id: str, indices: list[int]) -> None:
        async with gate, uow_factory() as uow:
            results = await spend(uow, user_id, [debits[i] for i in indices], clock.now())
            await uow.commit()
        for index, result in zip(indices, results, strict=True):
            outcomes[index] = result

    await asyncio.gather(*(one_user(user, indices) for user, indices in by_user.items()))
    return [outcome for outcome in outcomes if outcome is not None]
