"""Where a webhook's CPU goes, layer by layer: one process, one event at a time, no HTTP.

The same first-time grant, each on fresh pending payments of the same database:

- ``raw_asyncpg``: the four statements of ``sql/four_statements.sql`` (as ``bare_app``
  sends them) in one transaction on an asyncpg connection: the driver and the kernel's
  loopback round trips, nothing else;
- ``sqlalchemy_core``: the same four statements as ``text()`` through the service's own
  engine (``make_engine``): what SQLAlchemy's execution adds;
- ``service``: a signed ``payment_intent.succeeded`` through ``receive_webhook`` with
  the app's container: signature, event translation, the use case, the outbox, logs.

Each runs serially on uvloop for ``count`` events after a warm-up; the figure is this
process's CPU (user + system) per event, steadier than a rate on a shared machine, plus
the wall time. ``python -m benchmarks.layers [--events N]`` on a fresh database, or as
part of ``just bench``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import make_engine
from adapters.stripe.signatures import sign_payload
from application.webhooks.receive_webhook import receive_webhook
from benchmarks import fixtures, seed_sql
from benchmarks.bare_app import APPEND, CLAIM, COMPLETE, MOVE
from benchmarks.fixtures import AMOUNT, BenchDatabase, BenchmarkFailed
from benchmarks.load import succeeded_event
from benchmarks.server import CLOSED_API_BASE, DUMMY_SECRET_KEY
from entrypoints.container import build_container
from entrypoints.settings import load_settings

USERS = 1000
WARM_UP = 200
SECRET = "whsec_layers"  # a throwaway database's signing secret
Grant = Callable[[int], Awaitable[None]]


async def _measure(grant: Grant, count: int) -> dict[str, float]:
    for i in range(WARM_UP):
        await grant(i)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(WARM_UP, WARM_UP + count):
        await grant(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"cpu_ms": round(1000 * cpu / count, 3), "wall_ms": round(1000 * wall / count, 3)}


def _named(sql: str) -> Any:
    return text(re.sub(r"\$(\d)", r":p\1", sql))


def _raw(pool: asyncpg.Pool, group: str) -> Grant:
    async def grant(i: int) -> None:
        payment = f"pay_{group}_{i}"
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchval(CLAIM, f"evt_{group}_{i}", "payment_intent.succeeded", False)
            paid = await conn.fetchrow(COMPLETE, payment, AMOUNT)
            user, credits = paid["user_id"], paid["credits"]
            balance = await conn.fetchval(MOVE, user, credits)
            await conn.execute(APPEND, user, credits, payment, f"purchase:{payment}", balance)

    return grant


def _core(engine: AsyncEngine, group: str) -> Grant:
    claim, complete, move, append = (_named(s) for s in (CLAIM, COMPLETE, MOVE, APPEND))

    async def grant(i: int) -> None:
        payment = f"pay_{group}_{i}"
        async with engine.connect() as conn:
            event = {"p1": f"evt_{group}_{i}", "p2": "payment_intent.succeeded", "p3": False}
            await conn.execute(claim, event)
            paid = (await conn.execute(complete, {"p1": payment, "p2": AMOUNT})).one()
            moved = await conn.execute(move, {"p1": paid.user_id, "p2": paid.credits})
            entry = {"p1": paid.user_id, "p2": paid.credits, "p3": payment}
            await conn.execute(append, entry | {"p4": f"purchase:{payment}", "p5": moved.scalar()})
            await conn.commit()

    return grant


def _service(url: str, group: str, count: int) -> tuple[Grant, Callable[[], Awaitable[None]]]:
    settings = load_settings(
        {
            "DATABASE_URL": url,
            "PAYMENT_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": DUMMY_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": CLOSED_API_BASE,
        }
    )
    container = build_container(settings)
    gateway, uow_factory, clock = container.gateway(), container.uow_factory(), container.clock()
    now = int(time.time())
    signed = []
    for i in range(count):
        body = json.dumps(json.loads(succeeded_event(group, i, USERS, now))).encode()
        signed.append((body, sign_payload(body, SECRET, now)))

    async def grant(i: int) -> None:
        body, signature = signed[i]
        outcome = await receive_webhook(
            body, signature, gateway=gateway, uow_factory=uow_factory, clock=clock
        )
        if outcome.value != "granted":
            raise BenchmarkFailed(f"event {i} of {group}: {outcome.value}")

    async def close() -> None:
        await container.engine().dispose()

    return grant, close


async def measure(url: str, count: int) -> dict[str, dict[str, float]]:
    """CPU and wall ms per grant of each layer, on the database at ``url`` (its users
    ``usr_bench_*`` seeded); each layer grants its own pending payments."""
    total = WARM_UP + count
    engine = make_engine(url)
    pool = await asyncpg.create_pool(url.replace("+asyncpg", "", 1), min_size=1, max_size=1)
    service, close = _service(url, "lys", total)
    try:
        async with engine.begin() as conn:
            for group in ("lyr", "lyc", "lys"):
                await seed_sql.payments(conn, group, total, USERS)
        return {
            "raw_asyncpg": await _measure(_raw(pool, "lyr"), count),
            "sqlalchemy_core": await _measure(_core(engine, "lyc"), count),
            "service": await _measure(service, count),
        }
    finally:
        await close()
        await pool.close()
        await engine.dispose()


async def _standalone(count: int) -> dict[str, dict[str, float]]:
    database = await BenchDatabase.create(fixtures.DEFAULT_SERVER_URL, sqlite=False)
    engine = make_engine(database.url)
    try:
        await fixtures.migrate(database.url)
        async with engine.begin() as conn:
            await seed_sql.users(conn, "usr_bench_", USERS, "bench")
        return await measure(database.url, count)
    finally:
        await engine.dispose()
        await database.drop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers")
    parser.add_argument("--events", type=int, default=2000, help="measured grants per layer")
    args = parser.parse_args(argv)
    for layer, figure in uvloop.run(_standalone(args.events)).items():
        print(f"{layer}: {figure['cpu_ms']:.3f} ms CPU, {figure['wall_ms']:.3f} ms wall per grant")


if __name__ == "__main__":
    main(sys.argv[1:])
