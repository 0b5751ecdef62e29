"""After any change of a user's available credits, in its transaction: fire the alerts
it crossed (``domain.alerts.decide``) and keep the flags.

A follow-up on the message bus, so every path that spends (debits, holds and their
captures, expiries) decides, and every path that gives credits back re-arms; the
change holds the account row, so deciding here cannot race another change of the
same account. A transaction with many
debits decides once on its final balance: the first run disarms what fired.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from application.ports import UnitOfWork
from domain.alerts import RUNWAY_WINDOW_DAYS, AlertFlags, AlertState, decide, rearm, runway_days
from domain.events import Depleted, DomainEvent, LowBalance, RunwayLow


async def rearm_alerts(uow: UnitOfWork, event: DomainEvent, now: datetime) -> None:
    """After credits came back (a grant, a hold ended, a refund undone). Nothing to do
    while every alert is armed, which is known without a read for most users."""
    state = await uow.alerts.get(event.user_id, for_update=True)
    if state.flags == AlertFlags():
        return
    account = await uow.ledger.account(event.user_id)
    if account is None:
        return
    runway = await current_runway(uow, event.user_id, account.available, state, now)
    flags = rearm(state, account.available, runway)
    if flags != state.flags:
        await uow.alerts.save_flags(event.user_id, flags, now)


async def check_alerts(uow: UnitOfWork, event: DomainEvent, now: datetime) -> None:
    """After credits were spent, reserved or expired."""
    account = await uow.ledger.account(event.user_id)
    if account is None:
        return
    state = await uow.alerts.get(event.user_id, for_update=True)
    runway = await current_runway(uow, event.user_id, account.available, state, now)
    decision = decide(state, account.available, runway)
    if decision.flags != state.flags:
        await uow.alerts.save_flags(event.user_id, decision.flags, now)
    user, left, cause = event.user_id, account.available, f"{event.type}:{event.key}"
    if decision.low_balance:
        threshold = state.settings.low_balance_threshold or 0
        uow.record(
            LowBalance(
                user_id=user, occurred_at=now, available=left, threshold=threshold, cause=cause
            )
        )
    if decision.depleted:
        uow.record(Depleted(user_id=user, occurred_at=now, available=left, cause=cause))
    if decision.runway_low:
        days = state.settings.runway_alert_days or 0
        uow.record(
            RunwayLow(
                user_id=user,
                occurred_at=now,
                available=left,
                runway_days=str(runway),
                alert_days=days,
                cause=cause,
            )
        )


async def current_runway(
    uow: UnitOfWork, user_id: str, available: int, state: AlertState, now: datetime
) -> Decimal | None:
    """The runway, read only when the user asked to be alerted on it."""
    if state.settings.runway_alert_days is None:
        return None
    spent = await uow.alerts.spent_since(user_id, now - timedelta(days=RUNWAY_WINDOW_DAYS))
    return runway_days(available, spent)
