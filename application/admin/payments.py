"""Payments across users for operators: filtered keyset pages, or every row for CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator

from application.admin.ports import PaymentFilter
from application.ports import Page, UnitOfWorkFactory
from application.queries import MAX_PAGE, page_size
from domain.errors import DomainError, ValidationFailed
from domain.payment import Payment, PaymentStatus

EXPORT_PAGE = MAX_PAGE


def _checked(where: PaymentFilter) -> PaymentFilter:
    if where.status is not None and where.status not in {s.value for s in PaymentStatus}:
        known = ", ".join(PaymentStatus)
        raise ValidationFailed(f"status must be one of {known}", code="invalid_status")
    if where.created_from and where.created_to and where.created_from >= where.created_to:
        raise DomainError("from must be before to", code="invalid_window")
    return where


async def list_payments(
    where: PaymentFilter,
    limit: int | None,
    cursor: str | None,
    *,
    uow_factory: UnitOfWorkFactory,
) -> Page[Payment]:
    async with uow_factory() as uow:
        return await uow.admin.payments(_checked(where), page_size(limit), cursor)


async def export_payments(
    where: PaymentFilter, *, uow_factory: UnitOfWorkFactory
) -> AsyncIterator[Payment]:
    """Every matching payment, newest first, a page per short transaction: an export
    of a million rows holds no transaction open while the client reads it."""
    where = _checked(where)
    cursor: str | None = None
    while True:
        async with uow_factory() as uow:
            page = await uow.admin.payments(where, EXPORT_PAGE, cursor)
        for payment in page.items:
            yield payment
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
