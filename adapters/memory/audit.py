"""The ledger's audit reads in memory: ``verify`` recomputes what the SQL one sums."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.memory.state import MemoryState, utc
from domain.ledger import BalanceMismatch, EntryKind, LedgerEntry
from domain.ledger_checks import (
    LedgerMismatch,
    LotMismatch,
    OverConsumedLot,
    is_over_consumed,
    lot_mismatches,
)


class MemoryLedgerAudit:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def verify(self) -> Sequence[LedgerMismatch]:
        sums: dict[str, int] = {}
        for entry in self._state.entries.values():
            sums[entry.user_id] = sums.get(entry.user_id, 0) + entry.credits
        balances: list[LedgerMismatch] = [
            BalanceMismatch(user_id, account.balance, sums.get(user_id, 0))
            for user_id, account in sorted(self._state.accounts.items())
            if account.balance != sums.get(user_id, 0)
        ]
        return balances + self._lot_mismatches(sums)

    def _lot_mismatches(self, sums: dict[str, int]) -> list[LotMismatch]:
        unspent: dict[str, int] = {}
        allocated: dict[int, int] = {}
        for lot in self._state.lots.values():
            unspent[lot.user_id] = unspent.get(lot.user_id, 0) + lot.remaining
        for allocations in self._state.allocations.values():
            for lot_id, taken in allocations:
                allocated[lot_id] = allocated.get(lot_id, 0) + taken
        over_consumed: list[tuple[str, OverConsumedLot]] = []
        for lot in self._state.lots.values():
            taken = allocated.get(lot.entry_id, 0)
            if is_over_consumed(lot.credits, taken, lot.remaining):
                found = OverConsumedLot(lot.entry_id, lot.credits, taken, lot.remaining)
                over_consumed.append((lot.user_id, found))
        totals = [(user_id, summed, unspent.get(user_id, 0)) for user_id, summed in sums.items()]
        return lot_mismatches(totals, over_consumed)

    async def find_entry(self, idempotency_key: str) -> LedgerEntry | None:
        return self._state.entries.get(idempotency_key)

    async def entries_since(
        self, kind: EntryKind, since: datetime, after_id: int, limit: int
    ) -> Sequence[LedgerEntry]:
        since = utc(since)
        found = (
            entry
            for entry in self._state.entries.values()
            if entry.kind is kind and entry.created_at >= since and entry.id > after_id
        )
        return sorted(found, key=lambda entry: entry.id)[:limit]
