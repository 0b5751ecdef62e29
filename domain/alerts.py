"""Low balance, depletion and runway alerts: each fires once per crossing, then re-arms.

A pure rule over the available credits after a change, the spending rate and the
flags kept with the account's settings: an alert fires when its condition holds and
it is armed (which disarms it), and re-arms once the condition no longer holds. The
flags are read and written under the account's lock, in the transaction of the change
that moved the balance, so two debits never both see the crossing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import DomainError

RUNWAY_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """None turns an alert off; ``credits.depleted`` is always on."""

    low_balance_threshold: int | None = None
    runway_alert_days: int | None = None

    def __post_init__(self) -> None:
        if self.low_balance_threshold is not None and self.low_balance_threshold < 1:
            raise DomainError("low_balance_threshold must be at least 1")
        if self.runway_alert_days is not None and self.runway_alert_days < 1:
            raise DomainError("runway_alert_days must be at least 1")


@dataclass(frozen=True, slots=True)
class AlertFlags:
    """True: the alert may fire (its condition did not hold when last seen)."""

    low_balance: bool = True
    depleted: bool = True
    runway_low: bool = True


@dataclass(frozen=True, slots=True)
class AlertState:
    settings: AlertSettings = AlertSettings()
    flags: AlertFlags = AlertFlags()


@dataclass(frozen=True, slots=True)
class Decision:
    flags: AlertFlags
    low_balance: bool = False
    depleted: bool = False
    runway_low: bool = False

    @property
    def fired(self) -> bool:
        return self.low_balance or self.depleted or self.runway_low


def runway_days(available: int, spent_in_window: int) -> Decimal | None:
    """Days until ``available`` runs out at the window's average daily spend, to 0.1
    day; None when nothing was spent in the window."""
    if spent_in_window <= 0:
        return None
    days = Decimal(max(available, 0)) * RUNWAY_WINDOW_DAYS / Decimal(spent_in_window)
    return days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def decide(state: AlertState, available: int, runway: Decimal | None) -> Decision:
    """Which alerts fire now, and the flags to keep."""
    s, f = state.settings, state.flags
    low = s.low_balance_threshold is not None and available < s.low_balance_threshold
    empty = available <= 0
    short = s.runway_alert_days is not None and runway is not None and runway < s.runway_alert_days
    flags = replace(f, low_balance=not low, depleted=not empty, runway_low=not short)
    return Decision(
        flags,
        low_balance=low and f.low_balance,
        depleted=empty and f.depleted,
        runway_low=short and f.runway_low,
    )


def rearm(state: AlertState, available: int, runway: Decimal | None) -> AlertFlags:
    """The flags after a change that gave credits back: it re-arms, never fires."""
    new, old = decide(state, available, runway).flags, state.flags
    return AlertFlags(
        old.low_balance or new.low_balance,
        old.depleted or new.depleted,
        old.runway_low or new.runway_low,
    )
