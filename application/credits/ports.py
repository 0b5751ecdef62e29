"""The ledger's ports: accounts and their entries, and the lots that grants open.

Part of the unit of work (``uow.ledger``, ``uow.lots``); the audit reads of the same
tables are ``application.reconciliation.ports.LedgerAudit`` (``uow.audit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.ledger import Account, Allocation, LedgerEntry, Lot, Posting

if TYPE_CHECKING:
    from application.ports import Page


class LedgerRepository(Protocol):
    async def open_account(self, user_id: str) -> None: ...

    async def lock_account(self, user_id: str) -> None:
        """Lock the user's account row until commit. Every ``post`` to the account takes
        the same lock, so a decision made under it (has the user purchased yet?) and a
        purchase grant take turns."""
        ...

    async def post(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        """Append the entry and move the cached balance atomically.

        Returns None when an entry with the same idempotency key exists ("already
        done"). Raises ``InsufficientCredits`` for a debit the balance does not cover
        (``domain.lots.covers``). A grant becomes a lot (after repaying any debt); a
        debit consumes lots as ``domain.lots.consume`` says and records its
        allocations; an expiry built from a stale lot raises ``LotChanged``.
        """
        ...

    async def account(self, user_id: str) -> Account | None: ...

    async def account_and_spent(self, user_id: str, since: datetime) -> tuple[Account, int] | None:
        """The account and the credits it spent (usage debits, hold captures) since
        ``since``, read together: one statement on SQL. None: no account."""
        ...

    async def entries(self, user_id: str, limit: int, cursor: str | None) -> Page[LedgerEntry]: ...


class LotRepository(Protocol):
    async def lot_for_key(self, idempotency_key: str) -> Lot | None:
        """The lot of the grant with this key (a refund's purchase); None for others."""
        ...

    async def open_lots(self, user_id: str) -> Sequence[Lot]:
        """The user's lots with credits left, in the order debits consume them."""
        ...

    async def allocations(self, entry_id: int) -> Sequence[Allocation]:
        """The lots a debit entry consumed, in the order it consumed them."""
        ...

    async def lots(self, entry_ids: Sequence[int]) -> Sequence[Lot]:
        """The lots of these grant entries, spent or not (read without a lock: a lot's
        expiry never changes)."""
        ...

    async def expired_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        """Up to ``limit`` lots with ``expires_at <= now`` and credits left, oldest expiry
        first, for ``uow.ledger.post(expiry_posting(lot), now)`` in this unit of work.

        On PostgreSQL the lots and their accounts are locked ``SKIP LOCKED``: several
        workers take disjoint batches, and each batch's lots stay as read until commit.
        """
        ...
