"""A payment's dispute: opened, then closed won or lost, once, whatever the order of
its events.

Each dispute id is one record. Its status only moves forward (open -> won | lost),
and the funds flags only turn on, so a late ``created`` after ``closed``, a repeated
``funds_withdrawn`` or any shuffle of the four events ends in the same record. The
credits follow the outcome alone: while open, what is left of the purchase is held;
won frees it; lost takes every credit not yet reversed back (debt allowed, as with
refunds). Funds withdrawn or reinstated are recorded, and open the dispute if it
was not seen yet, but move no credits: the outcome decides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    payment_id: str
    user_id: str
    status: DisputeStatus
    created_at: datetime
    updated_at: datetime
    credits_held: int = 0
    credits_reversed: int = 0
    funds_withdrawn: bool = False
    funds_reinstated: bool = False

    @property
    def is_open(self) -> bool:
        return self.status is DisputeStatus.OPEN

    def close(self, won: bool, credits_reversed: int, now: datetime) -> Dispute:
        status = DisputeStatus.WON if won else DisputeStatus.LOST
        return replace(self, status=status, credits_reversed=credits_reversed, updated_at=now)

    def note_funds(self, withdrawn: bool, now: datetime) -> Dispute:
        if withdrawn:
            return replace(self, funds_withdrawn=True, updated_at=now)
        return replace(self, funds_reinstated=True, updated_at=now)


def dispute_hold_credits(purchase_unspent: int, available: int) -> int:
    """What a dispute holds: the purchase's unspent credits, but never more than is
    available, so a dispute never makes available negative."""
    return max(0, min(purchase_unspent, available))
