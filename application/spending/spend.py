"""One user's debits in one transaction: the core that ``debit`` and ``debit_batch`` share.

The account is locked first (``open``), together with the claim of every key, so
the plan made under it (which debits fit, in order) holds until commit; the
statement that moves the balance checks the total again (docs/failure-modes.md #5).
A refused debit records nothing: its claim is dropped and its key stays free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from application.ports import UnitOfWork
from application.spending.expiry import release_expired
from domain.errors import DomainError, InsufficientCredits, NotFound
from domain.events import CreditsDebited
from domain.spending import Debit, SpendRequest, StoredAnswer, plan


@dataclass(frozen=True, slots=True)
class DebitResult:
    """What a debit answers, the first time and on every replay of its key."""

    entry_id: int
    balance: int
    available: int


Outcome = DebitResult | DomainError


async def spend(
    uow: UnitOfWork, user_id: str, debits: Sequence[Debit], now: datetime
) -> list[Outcome]:
    """Apply ``debits`` (all of ``user_id``) in ``uow``; the caller commits.

    Returns one outcome per debit, in order: its result (new or replayed) or why it
    was refused.
    """
    requests = [SpendRequest(d.idempotency_key, d.fingerprint) for d in debits]
    opened = await uow.spending.open(user_id, requests, now)
    if opened is None:
        await uow.spend_requests.forget(user_id, [r.idempotency_key for r in requests])
        return [NotFound(f"no account for user {user_id}") for _ in debits]
    account = opened.account
    if opened.expired_holds:
        account = await release_expired(uow, user_id, now)
    fresh = [d for d in debits if d.idempotency_key in opened.claimed]
    replayed = [r for r in requests if r.idempotency_key not in opened.claimed]
    stored = await uow.spend_requests.answers(user_id, [r.idempotency_key for r in replayed])
    outcomes: dict[str, Outcome] = {r.idempotency_key: _replay(r, stored) for r in replayed}
    fits = plan(account.available, [d.credits for d in fresh])
    taken = [d for d, ok in zip(fresh, fits, strict=True) if ok]
    available = account.available
    for debit, ok in zip(fresh, fits, strict=True):
        if ok:
            available -= debit.credits
        else:
            outcomes[debit.idempotency_key] = InsufficientCredits(
                f"user {user_id} has {available} credits available, not {debit.credits}",
                available=available,
            )
    entries = await uow.spending.debit(user_id, taken, now) if taken else []
    for debit, entry in zip(taken, entries, strict=True):
        uow.record(CreditsDebited.of(entry, debit.description))
        outcomes[debit.idempotency_key] = DebitResult(
            entry.id, entry.balance_after, entry.balance_after - account.held
        )
    refused = [d.idempotency_key for d, ok in zip(fresh, fits, strict=True) if not ok]
    if refused:
        await uow.spend_requests.forget(user_id, refused)
    return [outcomes[d.idempotency_key] for d in debits]


def _replay(request: SpendRequest, stored: Mapping[str, StoredAnswer]) -> Outcome:
    answer = stored.get(request.idempotency_key)
    if answer is None or answer.result_id is None:
        return NotFound(f"no answer stored for idempotency_key {request.idempotency_key}")
    try:
        answer.replay_of(request)
    except DomainError as exc:
        return exc
    return DebitResult(int(answer.result_id), answer.balance or 0, answer.available or 0)
