"""Migration 0002 gives a ledger written before lots existed lots that add up.

Each user's grants must end up holding exactly ``max(balance, 0)``, in the lots that
the consumption rule spends last (non-expiring, newest), and debits hold no lot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.tables import accounts, ledger_entries

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# (user, key, credits, expires in days); balances follow from the sums.
HISTORY = [
    ("u1", "p1", 100, None),
    ("u1", "p2", 50, None),
    ("u1", "p3", 30, None),
    ("u1", "d1", -120, None),  # 60 left: p3 keeps its 30, p2 the other 30, p1 none
    ("u2", "p4", 100, None),
    ("u2", "r1", -150, None),  # in debt: no lot keeps anything
    ("u3", "t1", 40, 1),
    ("u3", "p5", 20, None),
    ("u3", "d2", -30, None),  # 30 left: p5 (spent last) keeps 20, t1 10
]
EXPECTED = {"p1": 0, "p2": 30, "p3": 30, "p4": 0, "t1": 10, "p5": 20, "d1": None}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
    new_pg_database: Callable[[], str] = request.getfixturevalue("new_pg_database")
    return new_pg_database()


async def test_backfill_puts_each_users_balance_in_the_lots_spent_last(blank_url: str) -> None:
    await upgrade(blank_url, "0001")
    engine = make_engine(blank_url)
    try:
        balances: dict[str, int] = {}
        async with engine.begin() as conn:
            for user_id, key, credits, days in HISTORY:
                balances[user_id] = balances.get(user_id, 0) + credits
                expires_at = None if days is None else NOW + timedelta(days=days)
                row = {"user_id": user_id, "credits": credits, "kind": "purchase"}
                row |= {"reference_type": "test", "reference_id": key, "idempotency_key": key}
                row |= {"balance_after": balances[user_id], "created_at": NOW}
                await conn.execute(insert(ledger_entries).values(**row, expires_at=expires_at))
            for user_id, balance in balances.items():
                await conn.execute(insert(accounts).values(user_id=user_id, balance=balance))
        await upgrade(blank_url, "0002")
        columns = ledger_entries.c.idempotency_key, ledger_entries.c.lot_remaining
        async with engine.connect() as conn:
            found = {key: left for key, left in await conn.execute(select(*columns))}
    finally:
        await engine.dispose()
    assert {key: found[key] for key in EXPECTED} == EXPECTED
    assert found["d2"] is None and found["r1"] is None
