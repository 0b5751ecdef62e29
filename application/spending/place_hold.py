"""``POST /api/credits/holds``: reserve credits for work whose cost is known later.

Placed only if the available balance covers it (the statement that raises ``held``
checks it), so a user in debt, who has nothing available, cannot place one.
"""

from __future__ import annotations

from application.ids import new_id
from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from application.spending.expiry import release_expired
from domain.errors import InsufficientCredits, NotFound
from domain.events import HoldPlaced
from domain.holds import Hold, HoldKind, check_ttl, hold_fingerprint
from domain.spending import SpendRequest, StoredAnswer


async def place_hold(
    user_id: str,
    credits: int,
    idempotency_key: str,
    ttl_seconds: int,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> Hold:
    ttl = check_ttl(ttl_seconds)
    fingerprint = hold_fingerprint(user_id, credits, ttl_seconds, idempotency_key)
    request = SpendRequest(idempotency_key, fingerprint)
    now = clock.now()
    async with uow_factory() as uow:
        opened = await uow.spending.open(user_id, [request], now)
        if opened is None:
            raise NotFound(f"no account for user {user_id}")
        if idempotency_key not in opened.claimed:
            stored = await uow.spend_requests.answers(user_id, [idempotency_key])
            return await _replayed(uow, request, stored.get(idempotency_key))
        account = opened.account
        if opened.expired_holds:
            account = await release_expired(uow, user_id, now)
        hold = Hold(
            id=new_id("hold"),
            user_id=user_id,
            credits=credits,
            kind=HoldKind.USAGE,
            idempotency_key=idempotency_key,
            created_at=now,
            expires_at=now + ttl,
        )
        after = await uow.spending.reserve(user_id, credits, now)
        if after is None:
            raise InsufficientCredits(
                f"user {user_id} has {account.available} credits available, not {credits}",
                available=account.available,
            )
        await uow.holds.add(hold)
        answer = StoredAnswer(request.fingerprint, hold.id, after.balance, after.available)
        await uow.spend_requests.answer(user_id, idempotency_key, answer)
        uow.record(
            HoldPlaced(
                user_id=user_id,
                occurred_at=now,
                hold_id=hold.id,
                credits=credits,
                hold_kind=hold.kind.value,
                expires_at=hold.expires_at,
            )
        )
        await uow.commit()
    return hold


async def _replayed(uow: UnitOfWork, request: SpendRequest, answer: StoredAnswer | None) -> Hold:
    """The hold the key placed first (as it is now), if the fields are the same."""
    if answer is None or answer.result_id is None:
        raise NotFound(f"no answer stored for idempotency_key {request.idempotency_key}")
    answer.replay_of(request)
    hold = await uow.holds.get(answer.result_id)
    if hold is None:
        raise NotFound(f"hold {answer.result_id} vanished")
    return hold
