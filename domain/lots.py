"""How debits consume lots: one pure rule that every ledger adapter applies.

docs/ledger.md: spending takes the soonest-expiring lots first and non-expiring lots last
(ties by age), so credits that would be lost are used before credits that keep. A
debit may name one lot to take from first: a refund takes back the purchase's own
unspent credits before any other, an expiry takes its lot's unspent rest and nothing
else. Whatever the lots cannot cover is debt; the next grants repay it before any of
their credits become spendable. A debit the available balance does not cover is
refused (``covers``), unless its kind may go negative.
"""

from __future__ import annotations

from collections.abc import Iterable
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
