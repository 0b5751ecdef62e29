"""The summary's and the charts' sums, computed by the database.

Days are UTC days: PostgreSQL buckets ``timezone('UTC', t)``; SQLite stores naive
UTC text, whose ``date()`` is already the UTC day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.tables import (
    disputes,
    ledger_entries,
    payments,
    processed_events,
    refunds,
)
from application.admin.ports import (
    CurrencyTotals,
    KindTotals,
    Metric,
    Outstanding,
    StatusTotals,
    Window,
)
from application.refunds.gateway import REVERSING_REFUND_STATUSES
from domain.disputes import DisputeStatus
from domain.ledger import SPENT_KINDS, EntryKind
from domain.payment import PAID

_PAID = [status.value for status in PAID]
_REFUNDING = [status.value for status in REVERSING_REFUND_STATUSES]
_ADDED = func.coalesce(func.sum(case((ledger_entries.c.credits > 0, ledger_entries.c.credits))), 0)
_REMOVED = func.coalesce(
    func.sum(case((ledger_entries.c.credits < 0, -ledger_entries.c.credits))), 0
)


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    within: ColumnElement[bool] = (column >= window.start) & (column < window.end)
    return within


class SqlTotals:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def _rows(self, statement: Any) -> Sequence[Any]:
        return (await self._conn.execute(statement)).all()

    async def money(self, window: Window) -> Sequence[CurrencyTotals]:
        paid = (
            select(payments.c.currency, func.sum(payments.c.amount))
            .where(payments.c.status.in_(_PAID), _within(payments.c.completed_at, window))
            .group_by(payments.c.currency)
        )
        refunded = (
            select(refunds.c.currency, func.sum(refunds.c.amount))
            .where(refunds.c.status.in_(_REFUNDING), _within(refunds.c.created_at, window))
            .group_by(refunds.c.currency)
        )
        gross = {row[0]: int(row[1]) for row in await self._rows(paid)}
        back = {row[0]: int(row[1]) for row in await self._rows(refunded)}
        lost = {row[0]: int(row[1]) for row in await self._rows(_lost(window))}
        return [
            CurrencyTotals(
                currency, gross.get(currency, 0), back.get(currency, 0), lost.get(currency, 0)
            )
            for currency in sorted(gross.keys() | back.keys() | lost.keys())
        ]

    async def payments_by_status(self, window: Window) -> Sequence[StatusTotals]:
        statement = (
            select(
                payments.c.status,
                payments.c.currency,
                func.count(),
                func.sum(payments.c.amount),
            )
            .where(_within(payments.c.created_at, window))
            .group_by(payments.c.status, payments.c.currency)
            .order_by(payments.c.status, payments.c.currency)
        )
        return [StatusTotals(s, c, int(n), int(a)) for s, c, n, a in await self._rows(statement)]

    async def credits_by_kind(self, window: Window) -> Sequence[KindTotals]:
        statement = (
            select(ledger_entries.c.kind, _ADDED, _REMOVED)
            .where(_within(ledger_entries.c.created_at, window))
            .group_by(ledger_entries.c.kind)
            .order_by(ledger_entries.c.kind)
        )
        return [KindTotals(EntryKind(k), int(a), int(r)) for k, a, r in await self._rows(statement)]

    async def outstanding(self, at: datetime) -> Outstanding:
        balances = (
            select(func.sum(ledger_entries.c.credits).label("balance"))
            .where(ledger_entries.c.created_at < at)
            .group_by(ledger_entries.c.user_id)
            .subquery()
        )
        balance = balances.c.balance
        statement = select(
            func.coalesce(func.sum(case((balance > 0, balance))), 0),
            func.coalesce(func.sum(case((balance < 0, -balance))), 0),
        )
        credits, debt = (await self._rows(statement))[0]
        return Outstanding(int(credits), int(debt))

    async def webhook_outcomes(self, window: Window) -> Mapping[str, int]:
        outcome = func.coalesce(processed_events.c.outcome, "received")
        statement = (
            select(outcome, func.count())
            .where(_within(processed_events.c.received_at, window))
            .group_by(outcome)
        )
        return {str(o): int(n) for o, n in await self._rows(statement)}

    async def daily(self, metric: Metric, window: Window, currency: str) -> Mapping[date, int]:
        value, at, where = _series(metric, currency)
        day = self._day(at)
        statement = select(day, func.sum(value)).where(*where, _within(at, window)).group_by(day)
        return {_as_date(d): int(v) for d, v in await self._rows(statement)}

    def _day(self, column: Any) -> Any:
        if self._conn.dialect.name == "postgresql":
            return func.date(func.timezone("UTC", column))
        return func.date(column)


def _lost(window: Window) -> Any:
    """Per currency, the unrefunded amount of each payment whose first lost dispute
    falls in the window (``AdminQueries.money``)."""
    first_lost = (
        select(disputes.c.payment_id, func.min(disputes.c.updated_at).label("lost_at"))
        .where(disputes.c.status == DisputeStatus.LOST.value)
        .group_by(disputes.c.payment_id)
        .subquery()
    )
    return (
        select(payments.c.currency, func.sum(payments.c.amount - payments.c.amount_refunded))
        .join(first_lost, first_lost.c.payment_id == payments.c.id)
        .where(_within(first_lost.c.lost_at, window))
        .group_by(payments.c.currency)
    )


def _series(metric: Metric, currency: str) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """What one metric sums, the time it is bucketed by, and which rows count."""
    entries = ledger_entries.c
    if metric is Metric.GROSS:
        paid = [payments.c.status.in_(_PAID), payments.c.currency == currency]
        return payments.c.amount, payments.c.completed_at, paid
    if metric is Metric.REFUNDED:
        back = [refunds.c.status.in_(_REFUNDING), refunds.c.currency == currency]
        return refunds.c.amount, refunds.c.created_at, back
    if metric is Metric.CREDITS_GRANTED:
        return entries.credits, entries.created_at, [entries.credits > 0]
    kinds = SPENT_KINDS if metric is Metric.CREDITS_SPENT else {EntryKind.EXPIRY}
    return -entries.credits, entries.created_at, [entries.kind.in_(sorted(k.value for k in kinds))]


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
