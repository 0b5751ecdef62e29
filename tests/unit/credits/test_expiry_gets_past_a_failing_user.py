"""``expire_credits`` keeps going past a user whose expiry fails, however many lots
that user has: the failing user's lots must not hide the lots expiring after them."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from adapters.memory.ledger import MemoryLedgerRepository
from adapters.memory.uow import MemoryStore, MemoryUnitOfWork
from application.batch import NoControl
from application.credits.expire_credits import expire_credits
from application.ports import UnitOfWork
from domain.ledger import EntryKind, LedgerEntry, Posting
from tests.unit.conftest import T0, App
from tests.unit.credits.test_expire_credits import grant


class BrokenExpiry(MemoryLedgerRepository):
    """A ledger whose expiry postings fail for one user (a corrupt account, say)."""

    broken_user = ""

    async def post(self, posting: Posting, now: object) -> LedgerEntry | None:  # type: ignore[override]
        if posting.user_id == self.broken_user and posting.kind is EntryKind.EXPIRY:
            raise RuntimeError(f"account {posting.user_id} is broken")
        return await super().post(posting, now)  # type: ignore[arg-type]


class UowBrokenFor(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore, user_id: str) -> None:
        super().__init__(store)
        self._broken = user_id

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        ledger = BrokenExpiry(self._work)  # type: ignore[arg-type]
        ledger.broken_user = self._broken
        self.ledger = ledger
        return self


async def test_lots_expiring_after_a_failing_users_full_batch_still_expire(app: App) -> None:
    broken, fine = await app.user(), await app.user()
    for n in range(3):  # three lots that expire first, as many as a batch
        await grant(app.store.uow_factory, broken, 100, f"trial:b{n}", T0 + timedelta(days=1))
    await grant(app.store.uow_factory, fine, 250, "trial:f", T0 + timedelta(days=2))
    app.clock.advance(timedelta(days=3))

    def factory() -> UnitOfWork:
        return UowBrokenFor(app.store, broken)

    report = await expire_credits(
        uow_factory=factory, clock=app.clock, batch_size=3, control=NoControl()
    )

    assert app.balance(fine) == 0
    assert app.balance(broken) == 300
    assert report.counts == {"lots_expired": 1, "credits_expired": 250}
    assert [failure.item_id for failure in report.failures] == [broken]
    assert not report.interrupted
