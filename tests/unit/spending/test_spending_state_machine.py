"""The spending state machine on the memory adapters (see ``spending_machine``)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import settings

from adapters.memory.uow import MemoryStore
from application.ports import UnitOfWorkFactory
from tests.unit.spending.spending_machine import SpendingMachine


def _memory() -> tuple[UnitOfWorkFactory, Any]:
    loop = asyncio.new_event_loop()
    store = MemoryStore()
    return store.uow_factory, loop.run_until_complete


class MemorySpending(SpendingMachine):
    make = staticmethod(_memory)


TestSpendingOnMemory = MemorySpending.TestCase
TestSpendingOnMemory.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
