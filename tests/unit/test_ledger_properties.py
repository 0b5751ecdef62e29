"""Properties of the ledger for any sequence of grants, debits, reversals and replays.

Each operation runs in its own unit of work, some of which roll back instead of
committing; idempotency keys are drawn from a small pool so replays are common.
A plain dict model says what should have happened; the ledger must agree with it
and keep its own invariants: cached balance == sum of entries == last balance_after,
one entry per key, and no usage debit below zero.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from domain.errors import InsufficientCredits
from domain.ledger import EntryKind, LedgerEntry, Posting

USERS = ("u0", "u1", "u2")
KINDS = {
    "grant": EntryKind.PURCHASE,
    "debit": EntryKind.USAGE_DEBIT,
    "reversal": EntryKind.REFUND_REVERSAL,
}


@dataclass(frozen=True)
class Op:
    action: str
    user_id: str
    credits: int
    key: str
    commit: bool

    def posting(self) -> Posting:
        signed = self.credits if self.action == "grant" else -self.credits
        return Posting(self.user_id, signed, KINDS[self.action], "test", self.key, self.key)


ops = st.lists(
    st.builds(
        Op,
        action=st.sampled_from(sorted(KINDS)),
        user_id=st.sampled_from(USERS),
        credits=st.integers(1, 500),
        key=st.sampled_from([f"k{n}" for n in range(12)]),
        commit=st.sampled_from([True, True, True, False]),
    ),
    max_size=40,
)


async def _run(operations: list[Op]) -> None:
    store, now = MemoryStore(), FixedClock().now()
    async with store.uow() as uow:
        for user_id in USERS:
            await uow.ledger.open_account(user_id)
        await uow.commit()
    expected = dict.fromkeys(USERS, 0)
    done: set[str] = set()
    for op in operations:
        posting = op.posting()
        refused = not posting.may_go_negative and expected[op.user_id] + posting.credits < 0
        async with store.uow() as uow:
            try:
                entry = await uow.ledger.post(posting, now)
            except InsufficientCredits:
                assert refused and op.key not in done
                continue
            assert (entry is None) == (op.key in done)
            assert entry is None or not refused
            if op.commit:
                await uow.commit()
        if entry is not None and op.commit:
            done.add(op.key)
            expected[op.user_id] += posting.credits

    async with store.uow() as uow:
        assert await uow.ledger.verify() == []
        entries: list[LedgerEntry] = []
        for user_id in USERS:
            account = await uow.ledger.account(user_id)
            mine = list((await uow.ledger.entries(user_id, 1000, None)).items)
            assert account is not None and account.balance == expected[user_id]
            assert account.balance == sum(e.credits for e in mine)
            running = 0
            for entry in reversed(mine):  # oldest first
                running += entry.credits
                assert entry.balance_after == running
                if entry.kind is EntryKind.USAGE_DEBIT:
                    assert entry.balance_after >= 0
            entries += mine
    keys = [entry.idempotency_key for entry in entries]
    assert len(keys) == len(set(keys)) == len(done)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_ledger_invariants_hold_for_any_sequence(operations: list[Op]) -> None:
    asyncio.run(_run(operations))
