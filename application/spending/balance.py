"""What a user may spend now: balance, held and available, for the user and for services.

Holds past their expiry no longer hold, even before anything has marked them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from application.ports import Clock, UnitOfWorkFactory
from domain.alerts import RUNWAY_WINDOW_DAYS, runway_days
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


@dataclass(frozen=True, slots=True)
class BalanceView:
    """``GET /user/balance``: the account, and how many days its available credits
    last at the last ``RUNWAY_WINDOW_DAYS`` days' rate of spending (None: no spending)."""

    account: Account
    runway_days: Decimal | None


async def get_own_balance(
    user_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> BalanceView:
    """A user's own balance and runway: one statement unless something is held. An
    account not opened yet reads as empty."""
    now = clock.now()
    async with uow_factory() as uow:
        found = await uow.ledger.account_and_spent(
            user_id, now - timedelta(days=RUNWAY_WINDOW_DAYS)
        )
        if found is None:
            return BalanceView(Account(user_id, 0), None)
        account, spent = found
        expired = await uow.holds.expired_of(user_id, now) if account.held else ()
    account = replace(account, held=account.held - sum(hold.credits for hold in expired))
    return BalanceView(account, runway_days(account.available, spent))
