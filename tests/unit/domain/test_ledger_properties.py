"""Properties of the ledger for any sequence of grants, debits, reversals and expiries.

Each operation runs in its own unit of work, some of which roll back instead of
committing; idempotency keys are drawn from a small pool so replays are common, some
grants expire (some already have), reversals may name a lot (possibly another
user's), and expiries are posted from ``expired_lots`` and replayed. A plain dict
model says what the balances should be; the ledger must agree with it and keep its
own invariants: cached balance == sum of entries == last balance_after, one entry
per key, no usage debit below zero, and for the lots: their unspent parts sum to
max(balance, 0), each lot is its grant (less the debt it repaid) less what debits
took from it, and no debit took more than it moved.

``run_ledger_ops`` takes any unit-of-work factory, so the same sequences run on SQL
(``tests/integration/test_ledger_properties_sql.py``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.errors import InsufficientCredits
from domain.ledger import (
    MAY_GO_NEGATIVE,
    EntryKind,
    LedgerEntry,
    Lot,
    Posting,
    expiry_posting,
)
from domain.lots import grant_remaining

USERS = ("u0", "u1")
NOW = FixedClock().now()
KINDS = {
    "grant": EntryKind.PURCHASE,
    "expiring": EntryKind.TRIAL,
    "debit": EntryKind.USAGE_DEBIT,
    "reversal": EntryKind.REFUND_REVERSAL,
}
KEYS = [f"k{n}" for n in range(12)]
EXPIRY_BATCH = 2


@dataclass(frozen=True)
class Op:
    action: str
    user_id: str
    credits: int
    key: str
    commit: bool
    hours: int  # an expiring grant expires this many hours from NOW
    target: str  # a reversal takes from this key's lot first

    async def posting(self, uow: UnitOfWork) -> Posting:
        kind = KINDS[self.action]
        if self.action in ("grant", "expiring"):
            expires_at = NOW + timedelta(hours=self.hours) if self.action == "expiring" else None
            return Posting(self.user_id, self.credits, kind, "test", self.key, self.key, expires_at)
        lot = await uow.lots.lot_for_key(self.target) if self.action == "reversal" else None
        lot_id = None if lot is None else lot.entry_id
        return Posting(
            self.user_id, -self.credits, kind, "test", self.key, self.key, lot_entry_id=lot_id
        )


# Grants and debits weighted so that debits are often covered, span several lots and
# leave expiring lots partly spent; reversals often exceed what is left (debt).
ACTIONS = ["grant", "expiring", "expiring", "debit", "debit", "reversal", "expire", "re_expire"]

ops = st.lists(
    st.builds(
        Op,
        action=st.sampled_from(ACTIONS),
        user_id=st.sampled_from(USERS),
        credits=st.one_of(st.integers(1, 100), st.integers(1, 500)),
        key=st.sampled_from(KEYS),
        commit=st.sampled_from([True, True, True, False]),
        hours=st.integers(-2, 2),
        target=st.sampled_from(KEYS),
    ),
    min_size=5,
    max_size=40,
)


@dataclass
class Model:
    balances: dict[str, int]
    done: set[str]
    expired: list[Lot]


@dataclass
class Effect:
    """What one committed operation changed, for the model."""

    entries: list[LedgerEntry] = field(default_factory=list)
    expired: list[Lot] = field(default_factory=list)


async def _step(uow: UnitOfWork, op: Op, model: Model) -> Effect:
    if op.action == "expire":
        effect = Effect(expired=list(await uow.lots.expired_lots(NOW, EXPIRY_BATCH)))
        for lot in effect.expired:
            assert lot.expires_at is not None and lot.expires_at <= NOW and lot.remaining > 0
            entry = await uow.ledger.post(expiry_posting(lot), NOW)
            assert entry is not None and entry.credits == -lot.remaining
            effect.entries.append(entry)
        return effect
    if op.action == "re_expire":
        if model.expired:
            lot = model.expired[op.credits % len(model.expired)]
            assert await uow.ledger.post(expiry_posting(lot), NOW) is None
        return Effect()
    posting = await op.posting(uow)
    refused = not posting.may_go_negative and model.balances[op.user_id] + posting.credits < 0
    try:
        entry = await uow.ledger.post(posting, NOW)
    except InsufficientCredits:
        assert refused and op.key not in model.done
        return Effect()
    assert (entry is None) == (op.key in model.done)
    assert entry is None or (not refused and entry.credits == posting.credits)
    return Effect(entries=[] if entry is None else [entry])


async def run_ledger_ops(uow_factory: UnitOfWorkFactory, operations: list[Op]) -> None:
    async with uow_factory() as uow:
        for user_id in USERS:
            await uow.ledger.open_account(user_id)
        await uow.commit()
    model = Model(dict.fromkeys(USERS, 0), set(), [])
    for op in operations:
        async with uow_factory() as uow:
            effect = await _step(uow, op, model)
            if op.commit:
                await uow.commit()
        if op.commit:
            for entry in effect.entries:
                model.balances[entry.user_id] += entry.credits
                model.done.add(entry.idempotency_key)
            model.expired += effect.expired
    await _check(uow_factory, model)


async def _check(uow_factory: UnitOfWorkFactory, model: Model) -> None:
    async with uow_factory() as uow:
        assert await uow.audit.verify() == []
        keys: list[str] = []
        for user_id in USERS:
            account = await uow.ledger.account(user_id)
            mine = list(reversed((await uow.ledger.entries(user_id, 1000, None)).items))
            assert account is not None and account.balance == model.balances[user_id]
            assert account.balance == sum(e.credits for e in mine)
            running = 0
            for entry in mine:
                running += entry.credits
                assert entry.balance_after == running
                if entry.kind is EntryKind.USAGE_DEBIT:
                    assert entry.balance_after >= 0
            unspent = sum(lot.remaining for lot in await uow.lots.open_lots(user_id))
            assert unspent == max(account.balance, 0)
            await _check_lots(uow, mine)
            keys += [entry.idempotency_key for entry in mine]
    assert len(keys) == len(set(keys)) == len(model.done)
    assert set(keys) == model.done


async def _check_lots(uow: UnitOfWork, entries: list[LedgerEntry]) -> None:
    """Each lot is its grant less the debt it repaid less what debits took from it."""
    grants = {entry.id: entry for entry in entries if entry.credits > 0}
    taken: Counter[int] = Counter()
    expired: set[int] = set()
    for entry in entries:
        if entry.credits > 0:
            continue
        allocations = await uow.lots.allocations(entry.id)
        total = sum(credits for _, credits in allocations)
        assert total <= -entry.credits
        assert entry.kind in MAY_GO_NEGATIVE or total == -entry.credits
        for lot_id, credits in allocations:
            assert credits > 0 and lot_id in grants and lot_id < entry.id
            taken[lot_id] += credits
        if entry.kind is EntryKind.EXPIRY:
            assert [lot_id for lot_id, _ in allocations] == [int(entry.reference_id)]
            expired.add(int(entry.reference_id))
    for grant in grants.values():
        lot = await uow.lots.lot_for_key(grant.idempotency_key)
        assert lot is not None and (lot.entry_id, lot.user_id) == (grant.id, grant.user_id)
        start = grant_remaining(grant.credits, grant.balance_after)
        assert lot.remaining == start - taken[grant.id] >= 0
        if grant.id in expired:
            assert lot.remaining == 0 and lot.expires_at is not None and lot.expires_at <= NOW


@settings(max_examples=200, deadline=None)
@given(ops)
def test_ledger_invariants_hold_for_any_sequence(operations: list[Op]) -> None:
    asyncio.run(run_ledger_ops(MemoryStore().uow_factory, operations))
