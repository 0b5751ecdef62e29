"""What ``ledger verify`` holds the ledger to, beyond balance == sum of entries.

The lots must hold exactly the spendable part of each balance, or debits would
consume credits that do not exist and expiries remove credits that were spent. Both
ledger adapters gather raw sums (in SQL, or from memory) and let these rules decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.ledger import BalanceMismatch


@dataclass(frozen=True, slots=True)
class OverConsumedLot:
    """A lot whose allocations and unspent rest add up to more than it granted.

    ``remaining`` may also be out of ``0..credits`` on its own: either way, debits took
    (or could still take) credits that the grant never gave.
    """

    lot_entry_id: int
    credits: int
    allocated: int
    remaining: int


@dataclass(frozen=True, slots=True)
class LotMismatch:
    """One user's lots disagree with their entries.

    Their unspent remainders must add up to ``max(summed, 0)``, where ``summed`` is the
    sum of the user's entries: the ledger's truth, so that a tampered cached balance
    shows as a ``BalanceMismatch`` alone. ``over_consumed`` lists the user's lots that
    gave more than they granted.
    """

    user_id: str
    summed: int
    unspent: int
    over_consumed: tuple[OverConsumedLot, ...] = ()

    @property
    def expected_unspent(self) -> int:
        return max(self.summed, 0)


LedgerMismatch = BalanceMismatch | LotMismatch


def is_over_consumed(credits: int, allocated: int, remaining: int) -> bool:
    """Whether a lot's debits and unspent rest claim more than its grant gave."""
    return remaining < 0 or remaining > credits or allocated + remaining > credits


def lot_mismatches(
    totals: Iterable[tuple[str, int, int]],
    over_consumed: Iterable[tuple[str, OverConsumedLot]],
) -> list[LotMismatch]:
    """One report per offending user, by user id, from every adapter's raw findings.

    ``totals`` are ``(user_id, summed, unspent)``: the sum of a user's entries and of
    their lots' remainders; ``over_consumed`` are ``(user_id, lot)`` pairs.
    """
    lots: dict[str, list[OverConsumedLot]] = {}
    for user_id, lot in over_consumed:
        lots.setdefault(user_id, []).append(lot)
    found = [
        LotMismatch(user_id, summed, unspent, tuple(sorted(lots.get(user_id, ()), key=_entry_id)))
        for user_id, summed, unspent in totals
        if unspent != max(summed, 0) or user_id in lots
    ]
    return sorted(found, key=lambda mismatch: mismatch.user_id)


def _entry_id(lot: OverConsumedLot) -> int:
    return lot.lot_entry_id
