"""The spending ports: the account's spending moves, the holds, the answers of keys.

Part of the unit of work (``uow.spending``, ``uow.holds``, ``uow.spend_requests``).
Every spending change takes the account row first (``open``), so a decision made
under it (which debits fit, is a hold still active) stays true until commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.holds import Hold
from domain.ledger import Account, LedgerEntry
from domain.spending import Debit, SpendRequest, StoredAnswer


@dataclass(frozen=True, slots=True)
class Opened:
    """The locked account, the keys this transaction claimed, and how many of the
    user's holds are past their expiry but still counted as held."""

    account: Account
    claimed: frozenset[str]
    expired_holds: int


class SpendingLedger(Protocol):
    async def open(
        self, user_id: str, requests: Sequence[SpendRequest], now: datetime
    ) -> Opened | None:
        """Claim ``requests``' keys for the user and lock the account; None: no account.

        A key another transaction holds is waited for: it is claimed here only if
        that transaction rolled back (a refused debit records nothing).
        """
        ...

    async def debit(
        self, user_id: str, debits: Sequence[Debit], now: datetime
    ) -> Sequence[LedgerEntry]:
        """Post the debits in order, consuming lots (``domain.lots``), and store each
        one's answer under its key. All or nothing: raises ``InsufficientCredits``
        unless the available balance covers their total (checked by the statement
        that moves the balance)."""
        ...

    async def reserve(self, user_id: str, credits: int, now: datetime) -> Account | None:
        """Hold ``credits`` more if the available balance covers them; None if not."""
        ...

    async def unreserve(self, user_id: str, credits: int, now: datetime) -> Account:
        """Stop holding ``credits``."""
        ...


class SpendRequests(Protocol):
    """The first answer of each (user, key): a replay answers it again."""

    async def answers(self, user_id: str, keys: Sequence[str]) -> Mapping[str, StoredAnswer]: ...

    async def answer(self, user_id: str, key: str, answer: StoredAnswer) -> None: ...

    async def forget(self, user_id: str, keys: Sequence[str]) -> None:
        """Drop claims of requests that were refused: they record nothing."""
        ...


class HoldRepository(Protocol):
    async def add(self, hold: Hold) -> None: ...

    async def get(self, hold_id: str, *, for_update: bool = False) -> Hold | None: ...

    async def save(self, hold: Hold) -> None: ...

    async def for_reference(self, reference_id: str) -> Hold | None:
        """The hold placed for ``reference_id`` (a dispute)."""
        ...

    async def expired_of(self, user_id: str, now: datetime) -> Sequence[Hold]:
        """The user's active holds past their expiry (the caller holds the account)."""
        ...

    async def claim_expired(self, now: datetime, limit: int) -> Sequence[Hold]:
        """Up to ``limit`` active holds past expiry, with their accounts locked.

        On PostgreSQL ``SKIP LOCKED``: parallel workers take disjoint holds and never
        wait on a debit that holds the account.
        """
        ...
