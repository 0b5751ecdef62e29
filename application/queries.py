"""Read-only use cases: balances, ledger history, payments.

Owners only (docs/failure-modes.md #8).
"""

from __future__ import annotations

from application.ports import Page, UnitOfWorkFactory
from domain.errors import NotFound, ValidationFailed
from domain.ledger import LedgerEntry
from domain.ledger_checks import LedgerMismatch
from domain.payment import Payment

MAX_PAGE = 100


def page_size(limit: int | None, default: int = 20) -> int:
    size = default if limit is None else limit
    if not 1 <= size <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}", code="invalid_limit")
    return size


async def list_entries(
    user_id: str, limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> Page[LedgerEntry]:
    async with uow_factory() as uow:
        return await uow.ledger.entries(user_id, page_size(limit), cursor)


async def list_payments(
    user_id: str, limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> Page[Payment]:
    async with uow_factory() as uow:
        return await uow.payments.list_for_user(user_id, page_size(limit), cursor)


async def get_payment(
    payment_id: str, user_id: str | None, is_admin: bool, *, uow_factory: UnitOfWorkFactory
) -> Payment:
    async with uow_factory() as uow:
        payment = await uow.payments.get(payment_id)
    if payment is None or (not is_admin and payment.user_id != user_id):
        raise NotFound("no such payment")
    return payment


async def verify_ledger(*, uow_factory: UnitOfWorkFactory) -> list[LedgerMismatch]:
    """Balances that differ from their entries, then accounts whose lots differ."""
    async with uow_factory() as uow:
        return list(await uow.audit.verify())
