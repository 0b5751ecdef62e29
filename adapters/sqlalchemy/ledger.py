"""The ledger on SQL: an atomic balance update and an idempotent entry insert.

A grant is the hot path of every webhook: one ``UPDATE accounts ... RETURNING
balance`` (the row lock serialises writers of one account and the WHERE clause refuses
overdrafts atomically — no read-modify-write, docs/failure-modes.md #5) and one ``INSERT
... ON CONFLICT (idempotency_key) DO NOTHING`` that also opens the grant's lot, sized
from the returned balance (debt is repaid first). On PostgreSQL a grant that refills no
lots sends both as one statement (``grant_sql.py``). A conflict means the entry exists:
the balance move is undone in the same transaction and the caller hears "already done"
(None), never an error. A grant also learns the account's reward flags (``hints.py``).

A debit also locks and reads the user's lots before its insert, and afterwards lowers
the lots it consumed and records its allocations (``lots.py``): five round trips. A
grant that refills lots (``domain.lots.refill``) records its negative allocations the
same way. The audit's reads of the same tables are in ``audit.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit, decode_int, encode_cursor
from adapters.sqlalchemy.dialect import insert_for, one_of, per_dialect
from adapters.sqlalchemy.grant_sql import GRANT, MOVE_FOR_GRANT
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.lots import SqlLotRepository
from adapters.sqlalchemy.tables import accounts, ledger_entries
from application.ports import Page
from domain.errors import LotChanged, NotFound
from domain.ledger import SPENT_KINDS, Account, EntryKind, LedgerEntry, Posting
from domain.lots import consume, refill, refusal

_ENTRY_COLUMNS = (
    "user_id",
    "credits",
    "kind",
    "reference_type",
    "reference_id",
    "idempotency_key",
    "balance_after",
    "created_at",
    "expires_at",
    "lot_remaining",
)
# Built once: see ``dialect.per_dialect``.
_APPEND = per_dialect(
    lambda insert: (
        insert(ledger_entries)
        .values({name: bindparam(f"new_{name}") for name in _ENTRY_COLUMNS})
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(ledger_entries.c.id)
    )
)
# Execution keys must not be column names: for an UPDATE those become SET clauses.
_CREDITS = bindparam("credits", type_=accounts.c.balance.type)
_MOVE = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .values(balance=accounts.c.balance + _CREDITS, updated_at=bindparam("new_updated_at"))
    .returning(accounts.c.balance)
)
# domain.lots.covers, in SQL: the update is chosen by ``posting.may_go_negative`` and
# this WHERE clause lets the available balance (balance - held) take the debit or not.
_MOVE_COVERED = _MOVE.where(accounts.c.balance - accounts.c.held + _CREDITS >= 0)


def spent_since(
    user_id: ColumnElement[str] | str, since: ColumnElement[datetime] | datetime
) -> Select[tuple[int]]:
    """Credits ``user_id`` spent since ``since``: one range of the (user, time) index."""
    return select(func.coalesce(func.sum(-ledger_entries.c.credits), 0)).where(
        ledger_entries.c.user_id == user_id,
        one_of(ledger_entries.c.kind, (kind.value for kind in SPENT_KINDS)),
        ledger_entries.c.created_at >= since,
    )


_ACCOUNT_AND_SPENT = select(
    accounts.c.user_id,
    accounts.c.balance,
    accounts.c.held,
    spent_since(accounts.c.user_id, bindparam("since")).scalar_subquery().label("spent"),
).where(accounts.c.user_id == bindparam("u"))
"""The balance read: the account row by key and one range of the (user, time) index."""


_PAGE = (
    select(ledger_entries)
    .where(ledger_entries.c.user_id == bindparam("u"))
    .order_by(ledger_entries.c.id.desc())
    .limit(bindparam("n"))
)
"""A page of history, newest first (one more row than asked tells whether more follow);
built once, as a statement built per call costs its cache key on every read."""
_PAGE_BEFORE = _PAGE.where(ledger_entries.c.id < bindparam("before"))


class SqlLedgerRepository:
    """``hints``: the unit of work's, told each granted user's reward flags."""

    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._insert = insert_for(connection)
        self._append_entry = _APPEND[connection.dialect.name]
        self._one_statement_grants = connection.dialect.name == "postgresql"
        self._lots = SqlLotRepository(connection)
        self._hints = AccountHints() if hints is None else hints

    async def open_account(self, user_id: str) -> None:
        statement = self._insert(accounts).values(user_id=user_id, balance=0, held=0)
        await self._conn.execute(statement.on_conflict_do_nothing(index_elements=["user_id"]))

    async def lock_account(self, user_id: str) -> None:
        statement = select(accounts.c.user_id).where(accounts.c.user_id == user_id)
        await self._conn.execute(statement.with_for_update())

    async def post(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        self._hints.forget_account(posting.user_id)  # whatever it moves, read it again
        if posting.credits > 0 and not posting.refills:
            return await self._grant(posting, now)
        balance = await self._move(posting.user_id, posting.credits, now, posting.may_go_negative)
        if balance is None:
            await self._raise_unless_duplicate(posting)
            return None
        allocations, own = refill(posting, balance) if posting.credits > 0 else ([], None)
        if posting.credits < 0:
            try:
                allocations = consume(posting, await self._lots.for_debit(posting))
            except LotChanged:
                await self._move(posting.user_id, -posting.credits, now, may_go_negative=True)
                if await self._is_duplicate(posting.idempotency_key):
                    return None
                raise
        entry = await self._append(posting, balance, now, own)
        if entry is None:
            await self._move(posting.user_id, -posting.credits, now, may_go_negative=True)
        elif allocations:
            await self._lots.record(entry.id, posting.user_id, allocations)
        return entry

    async def _grant(self, posting: Posting, now: datetime) -> LedgerEntry | None:
        """A grant with a lot of its own and nothing to refill (never refused)."""
        move = {"where_user_id": posting.user_id, "credits": posting.credits, "new_updated_at": now}
        if self._one_statement_grants:
            params = move | self._entry_params(posting, now)
            row = (await self._conn.execute(GRANT, params)).first()
        else:
            row = (await self._conn.execute(MOVE_FOR_GRANT, move)).first()
        if row is None:
            raise NotFound(f"no account for user {posting.user_id}")
        self._hints.learn(
            posting.user_id,
            has_trial=row.has_trial,
            has_referral=row.has_referral,
            has_alerts=row.has_alerts,
        )
        if self._one_statement_grants:
            entry = (
                None if row.entry_id is None else _entry(row.entry_id, posting, row.balance, now)
            )
        else:
            entry = await self._append(posting, row.balance, now, refill(posting, row.balance)[1])
        if entry is None:
            await self._move(posting.user_id, -posting.credits, now, may_go_negative=True)
        return entry

    async def _append(
        self, posting: Posting, balance: int, now: datetime, lot_remaining: int | None
    ) -> LedgerEntry | None:
        """Insert the entry (a grant's with its lot); None when its key is taken."""
        params = self._entry_params(posting, now) | {
            "new_balance_after": balance,
            "new_lot_remaining": lot_remaining,
        }
        entry_id = (await self._conn.execute(self._append_entry, params)).scalar_one_or_none()
        return None if entry_id is None else _entry(entry_id, posting, balance, now)

    @staticmethod
    def _entry_params(posting: Posting, now: datetime) -> dict[str, object]:
        return {
            "new_user_id": posting.user_id,
            "new_credits": posting.credits,
            "new_kind": posting.kind,
            "new_reference_type": posting.reference_type,
            "new_reference_id": posting.reference_id,
            "new_idempotency_key": posting.idempotency_key,
            "new_created_at": now,
            "new_expires_at": posting.expires_at,
        }

    async def _move(
        self, user_id: str, credits: int, now: datetime, may_go_negative: bool
    ) -> int | None:
        """Add ``credits`` to the balance; None when no row qualifies."""
        statement = _MOVE if may_go_negative else _MOVE_COVERED
        params = {"where_user_id": user_id, "credits": credits, "new_updated_at": now}
        result: int | None = (await self._conn.execute(statement, params)).scalar_one_or_none()
        return result

    async def _raise_unless_duplicate(self, posting: Posting) -> None:
        """Explain a balance update that matched no row (the slow, rare path).

        A replayed debit may no longer be covered; its key still means "already done".
        """
        if await self.account(posting.user_id) is None:
            raise NotFound(f"no account for user {posting.user_id}")
        if not await self._is_duplicate(posting.idempotency_key):
            raise refusal(posting)

    async def _is_duplicate(self, idempotency_key: str) -> bool:
        duplicate = select(ledger_entries.c.id).where(
            ledger_entries.c.idempotency_key == idempotency_key
        )
        return (await self._conn.execute(duplicate)).first() is not None

    async def account(self, user_id: str) -> Account | None:
        known = self._hints.known_account(user_id)
        if known is not None:
            return known  # returned by this transaction's last change of the locked row
        statement = select(accounts.c.user_id, accounts.c.balance, accounts.c.held).where(
            accounts.c.user_id == user_id
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else Account(row.user_id, row.balance, row.held)

    async def account_and_spent(self, user_id: str, since: datetime) -> tuple[Account, int] | None:
        row = (await self._conn.execute(_ACCOUNT_AND_SPENT, {"u": user_id, "since": since})).first()
        return None if row is None else (Account(row.user_id, row.balance, row.held), row.spent)

    async def entries(self, user_id: str, limit: int, cursor: str | None) -> Page[LedgerEntry]:
        check_limit(limit)
        parameters = {"u": user_id, "n": limit + 1}
        if cursor is None:
            rows = (await self._conn.execute(_PAGE, parameters)).all()
        else:
            parameters["before"] = decode_int(cursor)
            rows = (await self._conn.execute(_PAGE_BEFORE, parameters)).all()
        items = [entry_from_row(row) for row in rows[:limit]]
        next_cursor = encode_cursor(str(items[-1].id)) if len(rows) > limit else None
        return Page(items, next_cursor)


def _entry(entry_id: int, posting: Posting, balance: int, now: datetime) -> LedgerEntry:
    return LedgerEntry(
        id=entry_id,
        user_id=posting.user_id,
        credits=posting.credits,
        kind=EntryKind(posting.kind),
        reference_type=posting.reference_type,
        reference_id=posting.reference_id,
        idempotency_key=posting.idempotency_key,
        balance_after=balance,
        created_at=now,
        expires_at=posting.expires_at,
    )


def entry_from_row(row: Row[tuple[object, ...]]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        user_id=row.user_id,
        credits=row.credits,
        kind=EntryKind(row.kind),
        reference_type=row.reference_type,
        reference_id=row.reference_id,
        idempotency_key=row.idempotency_key,
        balance_after=row.balance_after,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
