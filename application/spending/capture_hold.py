"""``POST /api/credits/holds/{id}/capture``: spend at most the held credits, once.

The captured part is debited under the hold's own key (``capture:<hold id>``) and
the rest is freed, in one transaction. A hold past its expiry is ended as expired
(committed: it stops holding) and the capture is refused with ``hold_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.spending.settle_hold import end_hold, lock_hold
from domain.errors import HoldExpired
from domain.events import CreditsDebited
from domain.holds import Hold


@dataclass(frozen=True, slots=True)
class Captured:
    hold: Hold
    entry_id: int | None  # None when nothing was captured
    balance: int
    available: int


async def capture_hold(
    hold_id: str, credits: int, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> Captured:
    now = clock.now()
    async with uow_factory() as uow:
        hold = await lock_hold(uow, hold_id, now)
        try:
            captured = hold.capture(credits, now)
        except HoldExpired:
            await end_hold(uow, hold, hold.expire(now), now)
            await uow.commit()
            raise
        await end_hold(uow, hold, captured, now)
        entry = None
        if captured.captured:
            entry = await uow.ledger.post(captured.capture_posting(), now)
            assert entry is not None  # the key is the hold's, and the hold was active
            uow.record(CreditsDebited.of(entry))
        account = await uow.ledger.account(hold.user_id)
        assert account is not None
        await uow.commit()
    return Captured(
        captured, None if entry is None else entry.id, account.balance, account.available
    )
