"""The ledger as reconciliation and ``ledger verify`` read it (``uow.audit``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.ledger import EntryKind, LedgerEntry
from domain.ledger_checks import LedgerMismatch


class LedgerAudit(Protocol):
    async def verify(self) -> Sequence[LedgerMismatch]:
        """Every account whose cached balance is not the sum of its entries, and every
        account whose lots disagree with its entries (``LotMismatch``)."""
        ...

    async def find_entry(self, idempotency_key: str) -> LedgerEntry | None:
        """The entry made under ``idempotency_key`` (reconciliation's grant check)."""
        ...

    async def entries_since(
        self, kind: EntryKind, since: datetime, after_id: int, limit: int
    ) -> Sequence[LedgerEntry]:
        """Entries of ``kind``, every user's, created at or after ``since`` with an id
        above ``after_id``, by id: an audit reads the whole window page by page."""
        ...
