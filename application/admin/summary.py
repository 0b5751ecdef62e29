"""The month-end questions: what was paid, refunded and granted in a window, and what
is still owed to users at its end (prepaid credits not yet spent are a liability).

Everything comes from the ledger and the payments in one transaction, so the parts
agree: the closing balance is the opening one plus every entry of the window, and at
the present it is the sum of the accounts that ``ledger verify`` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from application.admin.ports import Metric, Totals, Window
from application.ports import Clock, UnitOfWorkFactory
from domain.errors import DomainError, ValidationFailed

DEFAULT_DAYS = 30
MAX_SERIES_DAYS = 366


def window(start: datetime | None, end: datetime | None, clock: Clock) -> Window:
    """Missing bounds: the 30 days up to now."""
    end = end or clock.now()
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("from and to need a time zone", code="invalid_window")
    if start >= end:
        raise DomainError("from must be before to", code="invalid_window")
    return Window(start, end)


async def summarise(
    start: datetime | None,
    end: datetime | None,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> tuple[Window, Totals]:
    span = window(start, end, clock)
    async with uow_factory() as uow:
        queries = uow.admin
        totals = Totals(
            money=await queries.money(span),
            payments_by_status=await queries.payments_by_status(span),
            credits_by_kind=await queries.credits_by_kind(span),
            opening=await queries.outstanding(span.start),
            closing=await queries.outstanding(span.end),
            webhook_outcomes=await queries.webhook_outcomes(span),
        )
    return span, totals


@dataclass(frozen=True, slots=True)
class Series:
    metric: Metric
    currency: str
    points: Sequence[tuple[date, int]]


def _days(span: Window) -> list[date]:
    first, last = span.start.date(), (span.end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _filled(span: Window, values: Mapping[date, int]) -> list[tuple[date, int]]:
    """Every UTC day of the window, zero where nothing happened."""
    return [(day, values.get(day, 0)) for day in _days(span)]


async def timeseries(
    metric: str,
    start: datetime | None,
    end: datetime | None,
    interval: str = "day",
    currency: str = "usd",
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> Series:
    if interval != "day":
        raise ValidationFailed("interval must be 'day'", code="invalid_interval")
    try:
        chosen = Metric(metric)
    except ValueError:
        known = ", ".join(Metric)
        raise ValidationFailed(f"metric must be one of {known}", code="invalid_metric") from None
    span = window(start, end, clock)
    if span.end - span.start > timedelta(days=MAX_SERIES_DAYS):
        raise DomainError(f"a series covers at most {MAX_SERIES_DAYS} days", code="invalid_window")
    async with uow_factory() as uow:
        values = await uow.admin.daily(chosen, span, currency.lower())
    return Series(chosen, currency.lower(), _filled(span, values))
