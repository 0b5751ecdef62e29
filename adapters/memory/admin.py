"""The operator's reads in memory: the same answers as ``adapters/sqlalchemy/admin.py``
and ``admin_totals.py``, by plain iteration."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import copy
from datetime import date, datetime
from typing import TypeVar

from adapters.memory.state import MemoryState
from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from application.admin.ports import (
    DELIVERED,
    CurrencyTotals,
    FailedDelivery,
    FailingEventType,
    KindTotals,
    Metric,
    Outstanding,
    PaymentFilter,
    StatusTotals,
    UserRow,
    Window,
)
from application.ports import Page
from application.refunds.gateway import REVERSING_REFUND_STATUSES
from domain.disputes import Dispute, DisputeStatus
from domain.holds import Hold
from domain.ledger import SPENT_KINDS, Account, EntryKind
from domain.payment import PAID, Payment

T = TypeVar("T")
_REFUNDING = {status.value for status in REVERSING_REFUND_STATUSES}


def _within(at: datetime | None, window: Window) -> bool:
    return at is not None and window.start <= at < window.end


def _page(rows: Sequence[T], limit: int, key: Callable[[T], tuple[datetime, str]]) -> Page[T]:
    items = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        created, row_id = key(items[-1])
        next_cursor = encode_cursor(created.isoformat(), row_id)
    return Page(items, next_cursor)


def _newest_first(
    rows: Iterable[T], key: Callable[[T], tuple[datetime, str]], cursor: str | None
) -> list[T]:
    before = decode_time_and_id(cursor) if cursor is not None else None
    kept = [row for row in rows if before is None or key(row) < before]
    return sorted(kept, key=key, reverse=True)


class MemoryAdminQueries:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def users(
        self, email: str | None, q: str | None, limit: int, cursor: str | None
    ) -> Page[UserRow]:
        check_limit(limit)
        found = [
            user
            for user in self._state.users.values()
            if (email is None or user.email == email)
            and (q is None or q.lower() in user.email or user.id == q)
        ]
        ordered = _newest_first(found, lambda u: (u.created_at, u.id), cursor)
        page = _page(ordered, limit, lambda u: (u.created_at, u.id))
        accounts = self._state.accounts
        rows = [UserRow(copy(u), accounts.get(u.id) or Account(u.id, 0)) for u in page.items]
        return Page(rows, page.next_cursor)

    async def payments(self, where: PaymentFilter, limit: int, cursor: str | None) -> Page[Payment]:
        check_limit(limit)
        found = [p for p in self._state.payments.values() if _matches(p, where)]
        ordered = _newest_first(found, lambda p: (p.created_at, p.id), cursor)
        page = _page(ordered, limit, lambda p: (p.created_at, p.id))
        return Page([copy(p) for p in page.items], page.next_cursor)

    async def money(self, window: Window) -> Sequence[CurrencyTotals]:
        gross: Counter[str] = Counter()
        back: Counter[str] = Counter()
        for p in self._state.payments.values():
            if p.status in PAID and _within(p.completed_at, window):
                gross[p.currency] += p.amount
        for r in self._state.refunds.values():
            if r.status in _REFUNDING and _within(r.created_at, window):
                back[r.currency] += r.amount
        lost = self._lost(window)
        currencies = sorted(gross.keys() | back.keys() | lost.keys())
        return [CurrencyTotals(c, gross[c], back[c], lost[c]) for c in currencies]

    def _lost(self, window: Window) -> Counter[str]:
        """Per currency, the unrefunded amount of each payment whose first lost dispute
        falls in the window (``AdminQueries.money``)."""
        first: dict[str, datetime] = {}
        for d in self._state.disputes.values():
            if d.status is DisputeStatus.LOST:
                first[d.payment_id] = min(first.get(d.payment_id, d.updated_at), d.updated_at)
        lost: Counter[str] = Counter()
        for payment_id, at in first.items():
            p = self._state.payments.get(payment_id)
            if p is not None and _within(at, window):
                lost[p.currency] += p.amount - p.amount_refunded
        return lost

    async def payments_by_status(self, window: Window) -> Sequence[StatusTotals]:
        counts: Counter[tuple[str, str]] = Counter()
        amounts: Counter[tuple[str, str]] = Counter()
        for p in self._state.payments.values():
            if _within(p.created_at, window):
                counts[p.status.value, p.currency] += 1
                amounts[p.status.value, p.currency] += p.amount
        return [StatusTotals(s, c, counts[s, c], amounts[s, c]) for s, c in sorted(counts)]

    async def credits_by_kind(self, window: Window) -> Sequence[KindTotals]:
        added: Counter[EntryKind] = Counter()
        removed: Counter[EntryKind] = Counter()
        for e in self._state.entries.values():
            if _within(e.created_at, window):
                added[e.kind] += max(e.credits, 0)
                removed[e.kind] += max(-e.credits, 0)
        kinds = sorted(added.keys() | removed.keys(), key=str)
        return [KindTotals(k, added[k], removed[k]) for k in kinds]

    async def outstanding(self, at: datetime) -> Outstanding:
        balances: defaultdict[str, int] = defaultdict(int)
        for e in self._state.entries.values():
            if e.created_at < at:
                balances[e.user_id] += e.credits
        credits = sum(b for b in balances.values() if b > 0)
        return Outstanding(credits, -sum(b for b in balances.values() if b < 0))

    async def webhook_outcomes(self, window: Window) -> Mapping[str, int]:
        return dict(
            Counter(
                e.outcome or "received"
                for e in self._state.events.values()
                if _within(e.received_at, window)
            )
        )

    async def daily(self, metric: Metric, window: Window, currency: str) -> Mapping[date, int]:
        values: Counter[date] = Counter()
        for at, value in self._series(metric, currency):
            if _within(at, window):
                assert at is not None
                values[at.date()] += value
        return dict(values)

    def _series(self, metric: Metric, currency: str) -> Iterable[tuple[datetime | None, int]]:
        state = self._state
        if metric is Metric.GROSS:
            return (
                (p.completed_at, p.amount)
                for p in state.payments.values()
                if p.status in PAID and p.currency == currency
            )
        if metric is Metric.REFUNDED:
            return (
                (r.created_at, r.amount)
                for r in state.refunds.values()
                if r.status in _REFUNDING and r.currency == currency
            )
        if metric is Metric.CREDITS_GRANTED:
            return ((e.created_at, e.credits) for e in state.entries.values() if e.credits > 0)
        kinds = SPENT_KINDS if metric is Metric.CREDITS_SPENT else {EntryKind.EXPIRY}
        return ((e.created_at, -e.credits) for e in state.entries.values() if e.kind in kinds)

    async def active_holds(self, user_id: str) -> Sequence[Hold]:
        mine = (h for h in self._state.holds.values() if h.user_id == user_id and h.is_active)
        return sorted(mine, key=lambda h: (h.created_at, h.id))

    async def disputes_of(self, user_id: str) -> Sequence[Dispute]:
        mine = (d for d in self._state.disputes.values() if d.user_id == user_id)
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)

    async def failed_deliveries(self, limit: int) -> Sequence[FailedDelivery]:
        failed = [
            m for m in self._state.outbox.values() if m.attempts > 0 and m.status != DELIVERED
        ]
        failed.sort(key=lambda m: (m.occurred_at, m.event_id), reverse=True)
        return [
            FailedDelivery(m.event_id, m.type, m.user_id, m.occurred_at, m.attempts, m.last_status)
            for m in failed[:limit]
        ]

    async def failing_event_types(
        self, since: datetime, outcomes: frozenset[str]
    ) -> Sequence[FailingEventType]:
        counts: Counter[tuple[str, str]] = Counter()
        last: dict[tuple[str, str], datetime] = {}
        for e in self._state.events.values():
            if e.outcome in outcomes and e.received_at >= since:
                key = (e.type, e.outcome)
                counts[key] += 1
                last[key] = max(last.get(key, e.received_at), e.received_at)
        ordered = sorted(counts, key=lambda k: (-counts[k], k[0]))
        return [FailingEventType(t, o, counts[t, o], last[t, o]) for t, o in ordered]


def _matches(p: Payment, where: PaymentFilter) -> bool:
    return (
        (where.status is None or p.status.value == where.status)
        and (where.user_id is None or p.user_id == where.user_id)
        and (where.created_from is None or p.created_at >= where.created_from)
        and (where.created_to is None or p.created_at < where.created_to)
    )
