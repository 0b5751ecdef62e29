"""How debits consume lots: one pure rule that every ledger adapter applies.

docs/ledger.md: spending takes the soonest-expiring lots first and non-expiring lots last
(ties by age), so credits that would be lost are used before credits that keep. A
debit may name one lot to take from first: a refund takes back the purchase's own
unspent credits before any other, an expiry takes its lot's unspent rest and nothing
else. Whatever the lots cannot cover is debt; the next grants repay it before any of
their credits become spendable. A debit the available balance does not cover is
refused (``covers``), unless its kind may go negative. A grant that undoes a debit (a
refund that failed) gives the credits back to the lots the debit took them from,
unless they have expired.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from domain.errors import DomainError, InsufficientCredits, LotChanged, ValidationFailed
from domain.ledger import Account, Allocation, EntryKind, Lot, Posting

_NEVER = datetime.max.replace(tzinfo=UTC)


def consumption_order(lot: Lot) -> tuple[bool, datetime, int]:
    """Sort key: soonest expiry first, non-expiring last (NULLS LAST), then oldest."""
    return (lot.expires_at is None, lot.expires_at or _NEVER, lot.entry_id)


def allocate(lots: Iterable[Lot], amount: int, target: int | None = None) -> list[Allocation]:
    """Take up to ``amount`` credits from ``lots``: lot ``target`` first, then in order.

    The total is less than ``amount`` when the lots run out; the caller records the
    rest as debt (or refuses the debit).
    """
    if amount <= 0:
        raise ValidationFailed("a debit consumes at least one credit")
    ordered = sorted(
        (lot for lot in lots if lot.remaining > 0),
        key=lambda lot: (lot.entry_id != target, *consumption_order(lot)),
    )
    allocations: list[Allocation] = []
    for lot in ordered:
        if amount == 0:
            break
        taken = min(amount, lot.remaining)
        allocations.append(Allocation(lot.entry_id, taken))
        amount -= taken
    return allocations


def consume(posting: Posting, lots: Iterable[Lot]) -> list[Allocation]:
    """The lots a debit takes its credits from; only ``posting.user_id``'s lots count.

    An expiry must remove exactly what is left of its lot, so it never touches spent
    credits: a posting built from a stale ``Lot`` raises ``LotChanged``.
    """
    if posting.credits > 0:
        raise ValidationFailed("a grant consumes no lots")
    amount = -posting.credits
    mine = [lot for lot in lots if lot.user_id == posting.user_id]
    target = posting.lot_entry_id
    if posting.kind is EntryKind.EXPIRY and target is not None:
        left = sum(lot.remaining for lot in mine if lot.entry_id == target)
        if left != amount:
            raise LotChanged(f"lot {target} has {left} credits left, not {amount}")
        return [Allocation(target, amount)]
    return allocate(mine, amount, target)


def covers(account: Account, posting: Posting) -> bool:
    """Whether ``account`` may take ``posting``: a grant, or a kind that may go negative,
    always; any other debit only as far as the available balance (balance - held) goes.
    """
    return posting.may_go_negative or account.available + posting.credits >= 0


def refusal(posting: Posting) -> DomainError:
    """Why a debit the available balance cannot cover is refused.

    An expiry removes what its lot holds, and the lots never hold more than the
    balance: an expiry the balance cannot cover was built from a stale ``Lot``.
    """
    if posting.kind is EntryKind.EXPIRY:
        return LotChanged(f"lot {posting.lot_entry_id} no longer holds {-posting.credits} credits")
    return InsufficientCredits(f"user {posting.user_id} cannot cover {-posting.credits} credits")


def grant_remaining(credits: int, balance_after: int) -> int:
    """The spendable part of a new grant: what is left of it once it has repaid debt.

    Written in terms of the balance after the grant so the SQL adapter can compute it
    from ``UPDATE ... RETURNING balance`` without reading anything first.
    """
    return max(0, min(credits, balance_after))


def refill(posting: Posting, balance_after: int) -> tuple[list[Allocation], int]:
    """Where a grant's spendable part goes: back to ``posting.refills`` (negative
    allocations), and the rest to the grant's own lot.

    The lots refilled last are those the debit took last, which other debits would have
    taken last too; what the debit took as debt has no lot to go back to.
    """
    left = grant_remaining(posting.credits, balance_after)
    given: list[Allocation] = []
    for lot_id, taken in reversed(posting.refills):
        back = min(taken, left)
        if back > 0:
            given.append(Allocation(lot_id, -back))
            left -= back
    return given, left


def split_lapsed(
    allocations: Sequence[Allocation], lots: Iterable[Lot], now: datetime
) -> tuple[tuple[Allocation, ...], int]:
    """The allocations whose lots are still alive at ``now``, and the credits taken from
    lots that have expired since: those would be gone by now, so they are not given back."""
    expired = {lot.entry_id for lot in lots if lot.expires_at is not None and lot.expires_at <= now}
    alive = tuple(a for a in allocations if a.lot_entry_id not in expired)
    return alive, sum(a.credits for a in allocations if a.lot_entry_id in expired)
