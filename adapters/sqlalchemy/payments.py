"""Payments on SQL: rows mapped to and from ``domain.payment.Payment``.

``for_update`` locks the row (``SELECT ... FOR UPDATE``) on PostgreSQL so two
deliveries of one payment's events take turns; SQLite's compiler drops the clause,
which is right there because ``BEGIN IMMEDIATE`` already serialises every writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from adapters.sqlalchemy.dialect import insert_for, one_of
from adapters.sqlalchemy.tables import KEY, payments
from application.ports import Page
from application.webhooks.events import PaymentRef
from domain.errors import Conflict, NotFound, RequestInProgress
from domain.payment import OPEN, PAID, Payment, PaymentKind, PaymentStatus

_IMMUTABLE = frozenset({"id", "user_id", "created_at"})
# Columns of the row that are not fields of ``Payment`` (the sweep's lease).
_UNMAPPED = frozenset({"sweep_lease_until"})
_OPEN = [status.value for status in OPEN]
_PAID = [status.value for status in PAID]
# Built once: composing a 20-column UPDATE per call cost more CPU than its round trip.
_SAVE = (
    update(payments)
    .where(payments.c.id == bindparam("payment_id"))
    .values(
        {
            column.name: bindparam(f"new_{column.name}")
            for column in payments.columns
            if column.name not in _IMMUTABLE | _UNMAPPED
        }
    )
)


# The webhook's lookups, built once (plain and FOR UPDATE) for the same reason.
_BY = {
    column: select(payments).where(payments.c[column] == bindparam("key"))
    for column in ("id", "stripe_session_id", "stripe_payment_intent_id")
}
_BY_FOR_UPDATE = {column: statement.with_for_update() for column, statement in _BY.items()}
# ``Payment.matches`` and ``Payment.complete`` (and ``learn_intent``) in SQL: the
# paid webhook locks and completes an open payment in one statement.
_COMPLETE_OPEN = {
    column: update(payments)
    .where(
        payments.c[column] == bindparam("key"),
        one_of(payments.c.status, _OPEN),
        payments.c.amount == bindparam("paid_amount", type_=payments.c.amount.type),
        payments.c.currency == bindparam("paid_currency", type_=payments.c.currency.type),
    )
    .values(
        status=PaymentStatus.COMPLETED.value,
        completed_at=bindparam("now", type_=payments.c.completed_at.type),
        updated_at=bindparam("now", type_=payments.c.updated_at.type),
        failure_reason=None,
        stripe_payment_intent_id=func.coalesce(
            payments.c.stripe_payment_intent_id, bindparam("intent_id", type_=KEY)
        ),
    )
    .returning(*payments.columns)
    for column in ("stripe_session_id", "stripe_payment_intent_id")
}


class SqlPaymentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def add(self, payment: Payment) -> None:
        """Insert; a clash on a unique column raises instead of aborting the transaction.

        ``ON CONFLICT DO NOTHING`` keeps a PostgreSQL transaction usable without the
        two extra round trips of a savepoint on the checkout path.
        """
        statement = (
            self._insert(payments)
            .values(_to_row(payment))
            .on_conflict_do_nothing()
            .returning(payments.c.id)
        )
        if (await self._conn.execute(statement)).first() is not None:
            return
        if payment.client_key is not None and await self.find_by_client_key(
            payment.user_id, payment.client_key
        ):
            raise RequestInProgress("another request with this Idempotency-Key created a payment")
        raise Conflict(f"payment {payment.id} or its gateway ids already exist")

    async def save(self, payment: Payment) -> None:
        values = {f"new_{k}": v for k, v in _to_row(payment).items() if k not in _IMMUTABLE}
        result = await self._conn.execute(_SAVE, {"payment_id": payment.id, **values})
        if result.rowcount != 1:
            raise NotFound(f"no payment {payment.id}")

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        return await self._by("id", payment_id, for_update)

    async def find_by_session(self, session_id: str, *, for_update: bool = False) -> Payment | None:
        return await self._by("stripe_session_id", session_id, for_update)

    async def find_by_intent(self, intent_id: str, *, for_update: bool = False) -> Payment | None:
        return await self._by("stripe_payment_intent_id", intent_id, for_update)

    async def _by(self, column: str, key: str, for_update: bool) -> Payment | None:
        statement = (_BY_FOR_UPDATE if for_update else _BY)[column]
        row = (await self._conn.execute(statement, {"key": key})).first()
        return None if row is None else _from_row(row)

    async def find_by_client_key(self, user_id: str, client_key: str) -> Payment | None:
        statement = select(payments).where(
            payments.c.user_id == user_id, payments.c.client_key == client_key
        )
        return await self._one(statement, for_update=False)

    async def complete_open(
        self, ref: PaymentRef, amount: int | None, currency: str | None, now: datetime
    ) -> Payment | None:
        column, key = (
            ("stripe_session_id", ref.session_id)
            if ref.session_id
            else ("stripe_payment_intent_id", ref.intent_id)
        )
        if not key or amount is None:
            return None
        params = {
            "key": key,
            "paid_amount": amount,
            "paid_currency": (currency or "").lower(),
            "now": now,
            "intent_id": ref.intent_id,
        }
        row = (await self._conn.execute(_COMPLETE_OPEN[column], params)).first()
        if row is None:
            return None
        payment = _from_row(row)
        payment.events.append(payment.completion())
        return payment

    async def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Page[Payment]:
        check_limit(limit)
        statement = (
            select(payments)
            .where(payments.c.user_id == user_id)
            .order_by(payments.c.created_at.desc(), payments.c.id.desc())
            .limit(limit + 1)
        )
        if cursor is not None:
            created_at, payment_id = decode_time_and_id(cursor)
            key = tuple_(payments.c.created_at, payments.c.id)
            statement = statement.where(key < (created_at, payment_id))
        rows = (await self._conn.execute(statement)).all()
        items = [_from_row(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(last.created_at.isoformat(), last.id)
        return Page(items, next_cursor)

    async def claim_stale(
        self, now: datetime, intents_created_before: datetime, lease_until: datetime, limit: int
    ) -> Sequence[Payment]:
        """One ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``.

        Rows another worker is claiming right now are skipped rather than waited for,
        and rows it leased earlier no longer match, so workers get disjoint batches.
        On SQLite the clause is dropped: ``BEGIN IMMEDIATE`` already runs claims in turn.
        """
        # domain.sweep.is_stale, in SQL (with the status filter below).
        stale = or_(
            and_(
                payments.c.kind == PaymentKind.CHECKOUT.value,
                payments.c.expires_at <= now,
            ),
            and_(
                payments.c.kind == PaymentKind.PAYMENT_INTENT.value,
                payments.c.created_at <= intents_created_before,
            ),
        )
        free = or_(payments.c.sweep_lease_until.is_(None), payments.c.sweep_lease_until <= now)
        candidates = (
            select(payments.c.id)
            .where(payments.c.status.in_(_OPEN), stale, free)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(payments)
            .where(payments.c.id.in_(candidates.scalar_subquery()))
            .values(sweep_lease_until=lease_until)
            .returning(*payments.columns)
        )
        return [_from_row(row) for row in (await self._conn.execute(statement)).all()]

    async def has_purchased(self, user_id: str) -> bool:
        statement = (
            select(payments.c.id)
            .where(payments.c.user_id == user_id, payments.c.status.in_(_PAID))
            .limit(1)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def _one(self, statement: Select[Any], for_update: bool) -> Payment | None:
        if for_update:
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _from_row(row)


def _to_row(payment: Payment) -> dict[str, Any]:
    return {
        column.name: _plain(getattr(payment, column.name))
        for column in payments.columns
        if column.name not in _UNMAPPED
    }


def _plain(value: object) -> object:
    return value.value if isinstance(value, PaymentKind | PaymentStatus) else value


def _from_row(row: Row[Any]) -> Payment:
    fields = {k: v for k, v in row._mapping.items() if k not in _UNMAPPED}
    fields["kind"] = PaymentKind(fields["kind"])
    fields["status"] = PaymentStatus(fields["status"])
    return Payment(**fields)
