"""What a user may spend now: balance, held and available, for the user and for services.

Holds past their expiry no longer hold, even before anything has marked them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.alerts import RUNWAY_WINDOW_DAYS, runway_days
from domain.errors import NotFound
from domain.ledger import Account


async def get_balance(user_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock) -> Account:
    """A service asking for a user's balance: an unknown account is ``NotFound``."""
    now = clock.now()
    async with uow_factory() as uow:
        account = await uow.ledger.account(user_id)
        if account is None:
            raise NotFound(f"no account for user {user_id}")
        return await _holding(uow, account, now)


async def _holding(uow: UnitOfWork, account: Account, now: datetime) -> Account:
    """``account`` with what its expired holds no longer hold (read only if it holds)."""
    expired = await uow.holds.expired_of(account.user_id, now) if account.held else ()
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
        account = await _holding(uow, account, now)
    return BalanceView(account, runway_days(account.available, spent))
