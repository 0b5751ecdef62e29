"""Migration 0003 gives users referred before it a referral row with the default terms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
    new_pg_database: Callable[[], str] = request.getfixturevalue("new_pg_database")
    return new_pg_database()


USERS = """
INSERT INTO users (id, email, is_admin, referral_code, referred_by, created_at) VALUES
  ('a', 'a@x.io', false, 'AAAAAAAA', NULL, '2026-01-01 00:00:00'),
  ('b', 'b@x.io', false, 'BBBBBBBB', 'a', '2026-01-02 00:00:00'),
  ('c', 'c@x.io', false, 'CCCCCCCC', 'a', '2026-01-03 00:00:00')
"""
PAYMENT = """
INSERT INTO payments (id, user_id, kind, amount, currency, credits, status, created_at)
VALUES ('pay_c', 'c', 'checkout', 1000, 'usd', 1000, 'completed', '2026-01-04 00:00:00')
"""


async def test_referred_users_are_backfilled(blank_url: str) -> None:
    await upgrade(blank_url, "0002")
    engine = make_engine(blank_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(USERS))
            await conn.execute(text(PAYMENT))
        await upgrade(blank_url, "0003")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT user_id, referrer_id, status, min_purchase, bonus_credits,"
                        " max_uses FROM referrals ORDER BY user_id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("b", "a", "pending", 1000, 1000, 10),
        ("c", "a", "ineligible", 1000, 1000, 10),
    ]
