"""Migration 0020: a package's top-up counts what its payment charged, not the amount
the settings held, towards the monthly limit."""

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


ROWS = [
    """INSERT INTO users (id, email, is_admin, referral_code, created_at)
       VALUES ('u', 'u@x.io', false, 'UUUUUUUU', '2026-01-01 00:00:00')""",
    """INSERT INTO payments (id, user_id, kind, amount, currency, credits, status, created_at)
       VALUES ('pay_pkg', 'u', 'payment_intent', 5000, 'usd', 5500, 'completed',
               '2026-01-02 00:00:00')""",
    """INSERT INTO auto_top_ups (id, user_id, status, amount, currency, package_id, attempts,
                                next_attempt_at, payment_id, created_at) VALUES
       ('atu_pkg', 'u', 'succeeded', 1000, 'usd', 'credits_5500', 1,
        '2026-01-02 00:00:00', 'pay_pkg', '2026-01-02 00:00:00'),
       ('atu_unpaid', 'u', 'failed', 1000, 'usd', 'credits_5500', 3,
        '2026-01-03 00:00:00', NULL, '2026-01-03 00:00:00'),
       ('atu_amount', 'u', 'succeeded', 1000, 'usd', NULL, 1,
        '2026-01-04 00:00:00', 'pay_pkg', '2026-01-04 00:00:00')""",
]


async def test_a_package_top_up_takes_its_payments_amount(blank_url: str) -> None:
    await upgrade(blank_url, "0019")
    engine = make_engine(blank_url)
    try:
        async with engine.begin() as conn:
            for statement in ROWS:
                await conn.execute(text(statement))
        await upgrade(blank_url, "0020")
        async with engine.connect() as conn:
            query = text("SELECT id, amount FROM auto_top_ups ORDER BY id")
            amounts = {row.id: row.amount for row in await conn.execute(query)}
    finally:
        await engine.dispose()
    # the package's top-up charged 5000; one that never charged, and one of a plain
    # amount, keep what they had
    assert amounts == {"atu_amount": 1000, "atu_pkg": 5000, "atu_unpaid": 1000}
