"""A throwaway database for one benchmark run: created, migrated, seeded, verified, dropped.

Rows are named so that every tool can compute them: payment ``i`` of group ``g`` is
``pay_g_i`` with PaymentIntent ``pi_g_i``, its event is ``evt_g_i``, and it belongs to
user ``usr_bench_<i mod users>``. The app's events use the groups ``warm`` and ``app``,
pgbench uses ``pgb``; the ``canary`` payments belong to a user of their own: the event
of ``pay_canary_0`` is the one whose SQL is captured, after ``pay_canary_1`` was paid
(so that its balance, 2000, differs from every other value in that transaction).
"""

from __future__ import annotations

import enum
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.tables import accounts, ledger_entries, payments, processed_events, users
from adapters.sqlalchemy.uow import uow_factory
from application.queries import verify_ledger
from domain.ledger import EntryKind
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.user import User

DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
AMOUNT = 1000  # cents, in CURRENCY
CURRENCY = "usd"
CREDITS = 1000
CANARY = "canary"
CANARY_USER = "usr_bench_canary"
CANARY_PAYMENTS = 2
INSERT_CHUNK = 5000


class BenchmarkFailed(Exception):
    """The run cannot be trusted (or did not complete); the message says why."""


def payment_id(group: str, i: int) -> str:
    return f"pay_{group}_{i}"


def intent_id(group: str, i: int) -> str:
    return f"pi_{group}_{i}"


def event_id(group: str, i: int) -> str:
    return f"evt_{group}_{i}"


def user_id(j: int) -> str:
    return f"usr_bench_{j}"


def owner(group: str, i: int, user_count: int) -> str:
    return CANARY_USER if group == CANARY else user_id(i % user_count)


@dataclass
class BenchDatabase:
    """A fresh database; ``url`` is what the app is given (SQLAlchemy form)."""

    url: str
    backend: str
    _admin_url: URL | None = None
    _name: str | None = None
    _directory: Path | None = None

    @classmethod
    async def create(cls, server_url: str | None, *, sqlite: bool) -> BenchDatabase:
        if sqlite:
            directory = Path(tempfile.mkdtemp(prefix="creditline_bench_"))
            url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
            return cls(url, "sqlite", _directory=directory)
        base = make_url(server_url or DEFAULT_SERVER_URL)
        if base.get_backend_name() != "postgresql":
            raise BenchmarkFailed(f"--database-url must be a PostgreSQL server URL, got {base}")
        base = base.set(drivername="postgresql+asyncpg")
        name = f"creditline_bench_{secrets.token_hex(4)}"
        admin_url = base.set(database=base.database or "postgres")
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            raise BenchmarkFailed(f"cannot create a database on {admin_url!r}: {exc}") from exc
        finally:
            await engine.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
        return cls(url, "postgresql", _admin_url=admin_url, _name=name)

    async def drop(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            return
        engine = create_async_engine(
            self._admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
        finally:
            await engine.dispose()

    @property
    def name(self) -> str:
        return self._name or str(self._directory)

    def libpq(self) -> tuple[list[str], dict[str, str]]:
        """Connection options and environment for pgbench/psql."""
        url = make_url(self.url)
        options = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
        if url.username:
            options += ["-U", url.username]
        env = {"PGPASSWORD": url.password} if url.password else {}
        return options, env


async def migrate(url: str) -> None:
    await upgrade(url)


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def payment_row(group: str, i: int, user_count: int, now: datetime) -> dict[str, object]:
    """A pending PaymentIntent payment, as the payment-intent use case leaves it."""
    payment = Payment(
        id=payment_id(group, i),
        user_id=owner(group, i, user_count),
        kind=PaymentKind.PAYMENT_INTENT,
        amount=AMOUNT,
        currency=CURRENCY,
        credits=CREDITS,
        status=PaymentStatus.PENDING,
        created_at=now,
        description=f"{CREDITS} credits",
        stripe_payment_intent_id=intent_id(group, i),
        expires_at=now + timedelta(hours=1),
    )
    # Columns that are not fields of Payment (bookkeeping of other jobs) keep their defaults.
    return {
        column.name: _plain(getattr(payment, column.name))
        for column in payments.columns
        if hasattr(payment, column.name)
    }


async def seed(url: str, user_count: int, groups: Mapping[str, int]) -> None:
    """Users with open accounts, and ``groups[g]`` pending payments per group (bulk inserts)."""
    now = datetime.now(UTC)
    people = [
        User(id=user_id(j), email=f"bench{j}@example.com", created_at=now, referral_code=f"B{j}")
        for j in range(user_count)
    ]
    if CANARY in groups:
        people.append(User(id=CANARY_USER, email="canary@example.com", created_at=now))
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await _insert(conn, users, [asdict(user) for user in people])
            await _insert(
                conn, accounts, [{"user_id": user.id, "balance": 0, "held": 0} for user in people]
            )
            for group, count in groups.items():
                rows = [payment_row(group, i, user_count, now) for i in range(count)]
                await _insert(conn, payments, rows)
    finally:
        await engine.dispose()


async def _insert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, object]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await conn.execute(insert(table), list(rows[start : start + INSERT_CHUNK]))


async def verify(url: str, groups: Mapping[str, int]) -> list[str]:
    """Problems found; empty when every payment of ``groups`` was granted exactly once.

    Checked: each payment is completed; each has exactly one purchase entry, keyed
    ``purchase:<id>``, of its credits; each event is recorded once as granted; every
    balance equals its entries (``ledger verify``) and the credits of its completed
    payments.
    """
    problems: list[str] = []
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            for group, count in groups.items():
                problems += await _verify_group(conn, group, count)
            problems += await _verify_balances(conn)
        mismatches = await verify_ledger(uow_factory=uow_factory(engine))
        problems += [f"ledger verify: {m}" for m in mismatches]
    finally:
        await engine.dispose()
    return problems


async def _verify_group(conn: AsyncConnection, group: str, count: int) -> list[str]:
    problems = []
    ids = payments.c.id.startswith(f"pay_{group}_", autoescape=True)
    statuses = dict(
        (
            await conn.execute(
                select(payments.c.status, func.count()).where(ids).group_by(payments.c.status)
            )
        ).all()
    )
    if statuses.get(PaymentStatus.COMPLETED.value, 0) != count or sum(statuses.values()) != count:
        problems.append(f"group {group}: payment statuses {statuses}, expected {count} completed")
    grants = (
        await conn.execute(
            select(ledger_entries.c.idempotency_key, ledger_entries.c.credits).where(
                ledger_entries.c.kind == EntryKind.PURCHASE.value,
                ledger_entries.c.reference_id.startswith(f"pay_{group}_", autoescape=True),
            )
        )
    ).all()
    per_key = Counter(key for key, _ in grants)
    expected_keys = {f"purchase:{payment_id(group, i)}" for i in range(count)}
    if set(per_key) != expected_keys:
        missing = len(expected_keys - set(per_key))
        extra = len(set(per_key) - expected_keys)
        problems.append(f"group {group}: {missing} payment(s) not granted, {extra} stray grant(s)")
    repeated = [key for key, n in per_key.items() if n != 1]
    if repeated:
        problems.append(f"group {group}: granted more than once: {repeated[:5]}")
    if any(credits != CREDITS for _, credits in grants):
        problems.append(f"group {group}: a grant of other than {CREDITS} credits")
    outcomes = dict(
        (
            await conn.execute(
                select(processed_events.c.outcome, func.count())
                .where(processed_events.c.event_id.startswith(f"evt_{group}_", autoescape=True))
                .group_by(processed_events.c.outcome)
            )
        ).all()
    )
    if outcomes != {"granted": count}:
        problems.append(f"group {group}: event outcomes {outcomes}, expected {count} granted")
    return problems


async def _verify_balances(conn: AsyncConnection) -> list[str]:
    granted = dict(
        (
            await conn.execute(
                select(payments.c.user_id, func.sum(payments.c.credits))
                .where(payments.c.status == PaymentStatus.COMPLETED.value)
                .group_by(payments.c.user_id)
            )
        ).all()
    )
    problems = []
    for user, balance in (await conn.execute(select(accounts.c.user_id, accounts.c.balance))).all():
        expected = int(granted.get(user, 0))
        if balance != expected:
            problems.append(f"user {user}: balance {balance}, expected {expected}")
    return problems[:20]


async def database_counters(url: str) -> dict[str, int] | None:
    """Sessions opened and transactions ended on this database so far (PostgreSQL)."""
    if make_url(url).get_backend_name() != "postgresql":
        return None
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_stat_force_next_flush()"))
            row = (
                await conn.execute(
                    text(
                        "SELECT sessions, xact_commit, xact_rollback FROM pg_stat_database "
                        "WHERE datname = current_database()"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return {"sessions": row.sessions, "commits": row.xact_commit, "rollbacks": row.xact_rollback}
