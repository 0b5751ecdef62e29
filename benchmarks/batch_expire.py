"""Rows/s of ``creditline batch expire-sessions`` on PostgreSQL with the sandbox gateway.

    python -m benchmarks.batch_expire [--rows N] [--workers 1 2] [--mode processes|tasks]
                                      [--paid-every K] [--database-url URL] [--json]

For each worker count: a fresh database (``creditline_bench_batch_<random>``, dropped
afterwards), migrated, seeded in bulk with ``--rows`` stale Checkout payments whose
sessions exist in a sandbox gateway wired as the container wires it (each expiry's
``checkout.session.expired`` goes through the webhook path, in process); one in
``--paid-every`` was paid with its webhooks lost, so the sweep fulfils it.

``processes`` (default): the workers are processes forked once the sandbox is seeded,
each with its own copy of the sandbox and its own connection pool, started together,
as two cron pods would run. ``tasks``: asyncio tasks in one process sharing one
sandbox. rows/s = rows / (last worker's end - first worker's start).

Verified afterwards: every payment final, each expired session's event applied once
(two workers expiring one session would leave two events), ``ledger verify`` clean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, pool, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.clock import FixedClock
from adapters.sandbox.gateway import SandboxGateway
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.tables import accounts, payments, processed_events
from adapters.sqlalchemy.uow import uow_factory
from application.batch import NoControl
from application.purchases.gateway import CheckoutRequest
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from entrypoints.container import InProcessDelivery

DEFAULT_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "whsec_bench_batch"  # signs the benchmark's own events only
USERS = 100


class Forward:
    """The sandbox's webhook endpoint, bound in each worker to that worker's pool."""

    def __init__(self) -> None:
        self.to: InProcessDelivery | None = None

    async def __call__(self, body: bytes, signature: str) -> int:
        assert self.to is not None
        return await self.to(body, signature)


async def _admin(server: str, statement: str) -> None:
    url = make_url(server).set(database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.exec_driver_sql(statement)
    await engine.dispose()


async def seed_stale_sessions(
    url: str, gateway: SandboxGateway, now: datetime, rows: int, paid_every: int
) -> list[str]:
    """Bulk-insert ``rows`` pending Checkout payments with their sandbox sessions; one in
    ``paid_every`` is paid at the gateway with its webhooks lost. Returns the paid ids.
    Shared with the two-worker integration test."""
    records: list[dict[str, Any]] = []
    paid: list[str] = []
    for n in range(rows):
        payment_id, user_id = f"pay_{n:06d}", f"usr_{n % USERS:03d}"
        session = await gateway.create_checkout(
            CheckoutRequest(
                payment_id,
                user_id,
                1000,
                "usd",
                1000,
                "credits",
                "https://a.test/ok",
                "https://a.test/no",
                now + timedelta(hours=1),
                f"checkout:{payment_id}",
            )
        )
        if n % paid_every == 0:
            await gateway.pay_checkout(session.session_id, "4242424242424242", "never")
            paid.append(payment_id)
        records.append(
            {
                "id": payment_id,
                "user_id": user_id,
                "kind": "checkout",
                "amount": 1000,
                "currency": "usd",
                "credits": 1000,
                "status": "pending",
                "created_at": now,
                "expires_at": now + timedelta(hours=1),
                "stripe_session_id": session.session_id,
                "stripe_payment_intent_id": session.payment_intent_id,
                "updated_at": now,
            }
        )
    engine = make_engine(url)
    async with engine.begin() as connection:
        users = [{"user_id": f"usr_{n:03d}", "balance": 0, "held": 0} for n in range(USERS)]
        await connection.execute(insert(accounts), users)
        await connection.execute(insert(payments), records)
    await engine.dispose()
    return paid


async def sweep(
    url: str, gateway: SandboxGateway, forward: Forward, clock: FixedClock, policy: SweepPolicy
) -> dict[str, Any]:
    engine = make_engine(url)
    forward.to = InProcessDelivery(uow_factory(engine), clock)
    forward.to.gateway = gateway
    started = time.time()
    report = await expire_stale_sessions(
        uow_factory=uow_factory(engine),
        gateway=gateway,
        clock=clock,
        policy=policy,
        control=NoControl(),
    )
    ended = time.time()
    await engine.dispose()
    return {
        "start": started,
        "end": ended,
        "counts": dict(report.counts),
        "failed": len(report.failures),
    }


def _process_worker(args: tuple[Any, ...], go: Any, results: Any) -> None:
    go.wait()
    results.put(asyncio.run(sweep(*args)))


def run_processes(args: tuple[Any, ...], workers: int) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    children = [
        context.Process(target=_process_worker, args=(args, go, results)) for _ in range(workers)
    ]
    for child in children:
        child.start()
    go.set()
    outcomes = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    return outcomes


async def run_tasks(args: tuple[Any, ...], workers: int) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(sweep(*args) for _ in range(workers))))


async def verify(url: str, rows: int, paid: int) -> dict[str, int]:
    engine = make_engine(url)
    async with engine.connect() as connection:
        statuses = dict(
            (
                await connection.execute(
                    select(payments.c.status, func.count()).group_by(payments.c.status)
                )
            ).all()  # type: ignore[arg-type]
        )
        expiries = (
            await connection.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.type == "checkout.session.expired")
            )
        ).scalar_one()
    async with uow_factory(engine)() as uow:
        mismatches = await uow.audit.verify()
    await engine.dispose()
    problems = []
    if statuses != {"completed": paid, "expired": rows - paid}:
        problems.append(f"statuses {statuses}")
    if expiries != rows - paid:
        problems.append(f"{expiries} expiry events for {rows - paid} sessions")
    if mismatches:
        problems.append(f"{len(mismatches)} balances differ from their entries")
    if problems:
        raise SystemExit("benchmark verification failed: " + "; ".join(problems))
    return {"completed": paid, "expired": rows - paid}


def measure(server: str, rows: int, workers: int, mode: str, paid_every: int) -> dict[str, Any]:
    name = f"creditline_bench_batch_{secrets.token_hex(4)}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(upgrade(url))
        clock = FixedClock(datetime.now(UTC) - timedelta(hours=3))
        forward = Forward()
        gateway = SandboxGateway([SECRET], "http://bench.test", clock.now, forward)
        paid = len(asyncio.run(seed_stale_sessions(url, gateway, clock.now(), rows, paid_every)))
        clock.advance(timedelta(hours=3))
        policy = SweepPolicy(intent_ttl=timedelta(hours=24), batch_size=200, concurrency=8)
        args = (url, gateway, forward, clock, policy)
        if mode == "processes":
            outcomes = run_processes(args, workers)
        else:
            outcomes = asyncio.run(run_tasks(args, workers))
        asyncio.run(verify(url, rows, paid))
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    seconds = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    return {
        "workers": workers,
        "mode": mode,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "per_worker": [sum(o["counts"].values()) for o in outcomes],
        "failed": sum(o["failed"] for o in outcomes),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_expire")
    parser.add_argument("--rows", type=int, default=5000, help="stale payments (5000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="(1 2)")
    parser.add_argument("--mode", choices=["processes", "tasks"], default="processes")
    parser.add_argument("--paid-every", type=int, default=100, help="one paid in K (100)")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="PostgreSQL server")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args(argv)
    results = [
        measure(options.database_url, options.rows, n, options.mode, options.paid_every)
        for n in options.workers
    ]
    if options.json:
        print(json.dumps({"benchmark": "batch_expire", "results": results}))
        return
    for r in results:
        print(
            f"expire-sessions, {r['workers']} worker(s) ({r['mode']}): {r['rows']} rows in "
            f"{r['seconds']} s = {r['rows_per_second']} rows/s; per worker {r['per_worker']}"
        )


if __name__ == "__main__":
    main()
