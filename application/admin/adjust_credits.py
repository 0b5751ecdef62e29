"""POST /api/admin/credits/adjust: an operator grants or takes back credits by hand.

One transaction: the acting admin key's row is locked first, so its 24-hour total is
read and raised by one adjustment at a time (two concurrent grants cannot both fit
under the limit), then the entry is posted like any other and its reason recorded.
The same idempotency key from the same admin key answers the first adjustment again;
with different content it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.admin.ports import AdminAdjustment
from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.admin import (
    Adjustment,
    AdjustmentLimits,
    adjustment_key,
    adjustment_posting,
    check_grant,
    window_start,
)
from domain.errors import IdempotencyKeyReused, NotFound
from domain.events import CreditsAdjusted


@dataclass(frozen=True, slots=True)
class Adjusted:
    adjustment: AdminAdjustment
    replayed: bool


async def adjust_credits(
    adjustment: Adjustment,
    admin_key_id: str,
    *,
    limits: AdjustmentLimits,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> Adjusted:
    now = clock.now()
    async with uow_factory() as uow:
        await uow.adjustments.lock_key(admin_key_id, now)
        earlier = await uow.adjustments.find(
            adjustment_key(admin_key_id, adjustment.idempotency_key)
        )
        if earlier is not None:
            return Adjusted(_same(earlier, adjustment), replayed=True)
        if await uow.users.get(adjustment.user_id) is None:
            raise NotFound("no such user")
        granted = await uow.adjustments.granted_since(admin_key_id, window_start(now))
        check_grant(adjustment.credits, granted, limits)
        applied = await _post(uow, adjustment, admin_key_id, clock)
        await uow.commit()
    return Adjusted(applied, replayed=False)


async def _post(
    uow: UnitOfWork, adjustment: Adjustment, admin_key_id: str, clock: Clock
) -> AdminAdjustment:
    entry = await uow.ledger.post(adjustment_posting(adjustment, admin_key_id), clock.now())
    if entry is None:
        raise IdempotencyKeyReused("this idempotency key was used for another ledger entry")
    applied = AdminAdjustment(
        entry_id=entry.id,
        user_id=entry.user_id,
        admin_key_id=admin_key_id,
        credits=entry.credits,
        reason=adjustment.reason.strip(),
        idempotency_key=entry.idempotency_key,
        balance_after=entry.balance_after,
        created_at=entry.created_at,
    )
    await uow.adjustments.add(applied)
    uow.record(CreditsAdjusted.of(entry, applied.reason))
    return applied


def _same(earlier: AdminAdjustment, asked: Adjustment) -> AdminAdjustment:
    if (earlier.user_id, earlier.credits, earlier.reason) != (
        asked.user_id,
        asked.credits,
        asked.reason.strip(),
    ):
        raise IdempotencyKeyReused(
            "this idempotency key was used for a different adjustment by this admin key"
        )
    return earlier
