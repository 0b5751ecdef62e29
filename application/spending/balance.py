"""What a user may spend now: balance, held and available, for the user and for services.

Holds past their expiry no longer hold, even before anything has marked them.
"""

from __future__ import annotations

from dataclasses import replace

from application.ports import Clock, UnitOfWorkFactory
from domain.errors import NotFound
from domain.ledger import Account


async def get_balance(
    user_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock, missing_ok: bool = False
) -> Account:
    """``missing_ok``: an unknown account reads as empty (a user asking for their own)."""
    now = clock.now()
    async with uow_factory() as uow:
        account = await uow.ledger.account(user_id)
        if account is None and missing_ok:
            return Account(user_id, 0)
        if account is None:
            raise NotFound(f"no account for user {user_id}")
        expired = await uow.holds.expired_of(user_id, now) if account.held else ()
    return replace(account, held=account.held - sum(hold.credits for hold in expired))
