"""Spending on SQL: claims, the account lock, debits, holds' reservations.

On PostgreSQL a debit (or a batch of one user's debits) is two statements while
the account is locked (``spending_sql.py``), whatever the number of debits: the
claim with the lock, then the balance, entries, lots, allocations and answers
together. SQLite has one writer at a time (``BEGIN IMMEDIATE``), so there the same
steps run one by one through the ledger's ``post``; the contract tests hold both
to the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.ledger import SqlLedgerRepository
from adapters.sqlalchemy.spending_sql import DEBIT, OPEN
from adapters.sqlalchemy.tables import accounts, holds, spend_requests
from application.spending.ports import Opened
from domain.errors import InsufficientCredits
from domain.ledger import Account, EntryKind, LedgerEntry
from domain.spending import Debit, SpendRequest

_HELD = bindparam("credits", type_=accounts.c.held.type)
_RESERVE = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .where(accounts.c.balance - accounts.c.held >= _HELD)
    .values(held=accounts.c.held + _HELD, updated_at=bindparam("new_updated_at"))
    .returning(accounts.c.balance, accounts.c.held)
)
_UNRESERVE = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .values(held=accounts.c.held - _HELD, updated_at=bindparam("new_updated_at"))
    .returning(accounts.c.balance, accounts.c.held)
)
_ANSWER = (
    update(spend_requests)
    .where(
        spend_requests.c.user_id == bindparam("where_user_id"),
        spend_requests.c.idempotency_key == bindparam("where_key"),
    )
    .values(
        result_id=bindparam("new_result_id"),
        balance=bindparam("new_balance"),
        available=bindparam("new_available"),
    )
)


class SqlSpendingLedger:
    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._pg = connection.dialect.name == "postgresql"
        self._hints = AccountHints() if hints is None else hints
        self._ledger = SqlLedgerRepository(connection, self._hints)
        self._insert = insert_for(connection)

    async def open(
        self, user_id: str, requests: Sequence[SpendRequest], now: datetime
    ) -> Opened | None:
        if self._pg:
            params = {
                "user_id": user_id,
                "now": now,
                "keys": [r.idempotency_key for r in requests],
                "fingerprints": [r.fingerprint for r in requests],
            }
            row = (await self._conn.execute(OPEN, params)).first()
            if row is None:
                return None
            self._hints.learn(
                user_id, has_alerts=row.has_alerts, has_auto_top_up=row.has_auto_top_up
            )
            account = Account(user_id, row.balance, row.held)
            self._hints.know_account(account)
            return Opened(account, frozenset(row.claimed), row.expired)
        return await self._open_one_by_one(user_id, requests, now)

    async def _open_one_by_one(
        self, user_id: str, requests: Sequence[SpendRequest], now: datetime
    ) -> Opened | None:
        account = await self._ledger.account(user_id)
        if account is None:
            return None
        claimed = set()
        for request in requests:
            statement = (
                self._insert(spend_requests)
                .values(
                    user_id=user_id,
                    idempotency_key=request.idempotency_key,
                    fingerprint=request.fingerprint,
                    created_at=now,
                )
                .on_conflict_do_nothing()
                .returning(spend_requests.c.idempotency_key)
            )
            if (await self._conn.execute(statement)).first() is not None:
                claimed.add(request.idempotency_key)
        expired = select(func.count()).where(
            holds.c.user_id == user_id, holds.c.status == "active", holds.c.expires_at <= now
        )
        count = (await self._conn.execute(expired)).scalar_one()
        return Opened(account, frozenset(claimed), count)

    async def debit(
        self, user_id: str, debits: Sequence[Debit], now: datetime
    ) -> Sequence[LedgerEntry]:
        if not self._pg:
            return await self._debit_one_by_one(user_id, debits, now)
        params = {
            "user_id": user_id,
            "now": now,
            "keys": [d.idempotency_key for d in debits],
            "ledger_keys": [d.ledger_key for d in debits],
            "credits": [d.credits for d in debits],
        }
        rows = {row.idempotency_key: row for row in await self._conn.execute(DEBIT, params)}
        if len(rows) != len(debits):
            total = sum(d.credits for d in debits)
            raise InsufficientCredits(f"user {user_id} cannot cover {total} credits")
        last = rows[debits[-1].ledger_key]  # the debits run in order: the last leaves the balance
        self._hints.know_account(Account(user_id, last.balance_after, last.held))
        return [
            _entry(d, rows[d.ledger_key].id, rows[d.ledger_key].balance_after, now) for d in debits
        ]

    async def _debit_one_by_one(
        self, user_id: str, debits: Sequence[Debit], now: datetime
    ) -> Sequence[LedgerEntry]:
        account = await self._ledger.account(user_id)
        total = sum(d.credits for d in debits)
        if account is None or account.available < total:
            raise InsufficientCredits(f"user {user_id} cannot cover {total} credits")
        entries = []
        for debit in debits:
            entry = await self._ledger.post(debit.posting(), now)
            assert entry is not None  # the key was claimed by this transaction
            params = {
                "where_user_id": user_id,
                "where_key": debit.idempotency_key,
                "new_result_id": str(entry.id),
                "new_balance": entry.balance_after,
                "new_available": entry.balance_after - account.held,
            }
            await self._conn.execute(_ANSWER, params)
            entries.append(entry)
        return entries

    async def reserve(self, user_id: str, credits: int, now: datetime) -> Account | None:
        params = {"where_user_id": user_id, "credits": credits, "new_updated_at": now}
        row = (await self._conn.execute(_RESERVE, params)).first()
        if row is None:
            return None
        account = Account(user_id, row.balance, row.held)
        self._hints.know_account(account)
        return account

    async def unreserve(self, user_id: str, credits: int, now: datetime) -> Account:
        params = {"where_user_id": user_id, "credits": credits, "new_updated_at": now}
        row = (await self._conn.execute(_UNRESERVE, params)).one()
        account = Account(user_id, row.balance, row.held)
        self._hints.know_account(account)
        return account


def _entry(debit: Debit, entry_id: int, balance_after: int, now: datetime) -> LedgerEntry:
    posting = debit.posting()
    return LedgerEntry(
        id=entry_id,
        user_id=posting.user_id,
        credits=posting.credits,
        kind=EntryKind.USAGE_DEBIT,
        reference_type=posting.reference_type,
        reference_id=posting.reference_id,
        idempotency_key=posting.idempotency_key,
        balance_after=balance_after,
        created_at=now,
    )
