"""``just bench``: the service against same-run references, on PostgreSQL, in minutes.

    python -m benchmarks.suite [--seconds S] [--workers N] [--pool-size P] [--scale] [--profile]
                               [--only NAME ...] [--layers N] [--database-url URL] [--out DIR]

One run: a fresh database (dropped at the end), the server started as the README
recommends for production (``creditline serve --workers N``, one per core by default)
and the references' app with the same settings (``bare_app``: a bare endpoint, and
hand-written handlers doing the same I/O); then each of ``scenarios.SCENARIOS`` with wrk
(pre-signed webhook bodies, API keys) and its references (pgbench, the bare endpoint,
the hand-written handler), the CPU of one grant layer by layer (``layers.py``),
``batch expire-sessions`` rows/s and the peak RSS of a worker. ``--scale``
then loads ten million ledger entries (``seed_sql.load_scale``) and runs the scenarios
again. The run checks itself (each payment granted once, every event once, balances,
``ledger verify``) and fails on any problem. It writes ``bench/results/<date>.json`` and
a chart next to it (``chart.py``). ``--profile`` samples one worker with py-spy during
the first webhook scenario and prints its top functions.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import text

from adapters.sqlalchemy.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE, make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.queries import verify_ledger
from benchmarks import chart, debits, fixtures, seed_sql
from benchmarks.batch_expire import measure as measure_batch
from benchmarks.debit_scenarios import DEBIT_SCENARIOS
from benchmarks.fixtures import CANARY, BenchDatabase, BenchmarkFailed
from benchmarks.layers import measure as measure_layers
from benchmarks.pgbench import capture_canary, derive_script
from benchmarks.profile import Sampler
from benchmarks.scenarios import SCENARIOS, Bench, Figure, Scenario, warm_up
from benchmarks.server import AppServer
from benchmarks.wrk import ensure_wrk

USERS = 1000
PG_SETTINGS = (
    "shared_buffers",
    "max_connections",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "work_mem",
    "effective_cache_size",
    "jit",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite")
    parser.add_argument("--seconds", type=float, default=5.0, help="each measurement (5)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="serve --workers")
    parser.add_argument(
        "--pool-size", type=int, default=PG_POOL_SIZE, help="DATABASE_POOL_SIZE of each worker"
    )
    parser.add_argument("--scale", action="store_true", help="then again at ten million rows")
    parser.add_argument("--profile", action="store_true", help="py-spy one worker in each scenario")
    parser.add_argument("--only", nargs="*", help="these scenarios only (a quick look)")
    parser.add_argument(
        "--batch-rows", type=int, default=2000, help="expire-sessions rows (0: skip)"
    )
    parser.add_argument(
        "--layers", type=int, default=2000, help="grants per layer in benchmarks.layers (0: skip)"
    )
    parser.add_argument("--database-url", default=fixtures.DEFAULT_SERVER_URL)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    database = await BenchDatabase.create(args.database_url, sqlite=False)
    engine = make_engine(database.url)
    try:
        await fixtures.migrate(database.url)
        async with engine.begin() as conn:
            await seed_sql.users(conn, "usr_bench_", USERS, "bench")
        await fixtures.seed(database.url, 0, {CANARY: 2})
        secret = f"whsec_{secrets.token_hex(16)}"
        script = derive_script(await capture_canary(database.url, secret, USERS))
        result: dict[str, Any] = {"postgresql": await _postgres(engine)}
        app = AppServer(
            database.url,
            secret,
            workdir / "app.log",
            workers=args.workers,
            pool_size=args.pool_size,
        )
        bare = AppServer(
            database.url,
            secret,
            workdir / "bare.log",
            workers=args.workers,
            module="benchmarks.bare_app",
            pool_size=args.pool_size,
        )
        async with app, bare:
            bench = Bench(
                database,
                engine,
                workdir,
                secret,
                app,
                bare,
                USERS,
                "bench",
                args.seconds,
                "",
                script,
            )
            sampler = Sampler(app, args.out) if args.profile else None
            await debits.seed(database.url)
            every = [*SCENARIOS, *DEBIT_SCENARIOS]
            scenarios = [s for s in every if not args.only or s.name in args.only]
            result["small"] = await _pass(bench, scenarios, sampler)
            bench.note_rss()
            if args.layers:
                result["layers"] = await measure_layers(database.url, args.layers)
                print(_layers_line(result["layers"]), file=sys.stderr)
            if args.scale:
                started = time.monotonic()
                await _load_scale(engine)
                result["scale_load_s"] = round(time.monotonic() - started, 1)
                bench.tag, bench.readers = "x", "scale"
                result["scale"] = await _pass(bench, scenarios, None)
            result["peak_rss_mb"] = bench.peak_rss_mb
        if sampler is not None:
            result["profile"] = sampler.top()
        result["checks"] = await _check(engine)
    finally:
        await engine.dispose()
        await database.drop()
    return result


async def _pass(
    bench: Bench, scenarios: list[Scenario], sampler: Sampler | None
) -> list[dict[str, Any]]:
    figures: list[Figure] = []
    await warm_up(bench)
    for scenario in scenarios:
        if sampler is not None:
            async with sampler.sampling(bench.seconds, scenario.name):
                figures.append(await scenario.run(bench))
        else:
            figures.append(await scenario.run(bench))
        print(_line(figures[-1]), file=sys.stderr)
    return [f.as_json() for f in figures]


def _line(figure: Figure) -> str:
    refs = ", ".join(
        f"{k} {_rate(v)} (x{figure.ratios()[k]})" for k, v in figure.references.items()
    )
    return f"{figure.scenario}: {_rate(figure.service)}; {refs}"


def _layers_line(layers: dict[str, dict[str, float]]) -> str:
    told = ", ".join(f"{name} {f['cpu_ms']:.2f} ms" for name, f in layers.items())
    return f"CPU per grant, one at a time: {told}"


def _rate(figure: dict[str, Any]) -> str:
    """``1,234/s p99 12.3 ms``, and the server's CPU per request when measured."""
    cpu = figure.get("server_cpu_ms_per_request")
    told = f"{figure['per_second']:,.0f}/s p99 {figure['p99_ms']:.1f} ms"
    return told if cpu is None else f"{told} {cpu:.2f} ms CPU"


async def _load_scale(engine: Any) -> None:
    print("loading 10M ledger entries, 1M payments, 2M events ...", file=sys.stderr)
    async with engine.begin() as conn:
        await seed_sql.load_scale(conn)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


async def _postgres(engine: Any) -> dict[str, Any]:
    async with engine.connect() as conn:
        version = await conn.scalar(text("SELECT version()"))
        settings = {name: await conn.scalar(text(f"SHOW {name}")) for name in PG_SETTINGS}
    return {"version": version, "settings": settings}


async def _check(engine: Any) -> dict[str, Any]:
    """Every bench user's balance is their paid credits; ``ledger verify`` is clean."""
    async with engine.connect() as conn:
        wrong = await conn.scalar(
            text(
                "SELECT count(*) FROM accounts a LEFT JOIN (SELECT user_id, sum(credits) s "
                "FROM payments WHERE status = 'completed' GROUP BY user_id) p USING (user_id) "
                "WHERE starts_with(a.user_id, 'usr_bench_') AND a.balance <> coalesce(p.s, 0)"
            )
        )
    mismatches = await verify_ledger(uow_factory=uow_factory(engine))
    if wrong or mismatches:
        raise BenchmarkFailed(f"{wrong} wrong balances; ledger verify: {list(mismatches)[:5]}")
    return {"balances": "every balance equals its paid credits", "ledger_verify": "clean"}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_wrk()
    started = time.monotonic()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="creditline_bench_") as tmp:
        try:
            result = uvloop.run(run(args, Path(tmp)))  # the loop the service serves on
            batch = (
                measure_batch(args.database_url, args.batch_rows, 1, "processes", 100)
                if args.batch_rows
                else None
            )
        except BenchmarkFailed as exc:
            raise SystemExit(f"benchmark failed: {exc}") from None
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_before": load_before},
        "server": {
            "command": f"creditline serve --workers {args.workers}",
            "pool_size": args.pool_size,
            "max_overflow": PG_MAX_OVERFLOW,
        },
        "seconds_per_measurement": args.seconds,
        **result,
        "batch_expire_sessions": batch,
        "load_after": os.getloadavg(),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / datetime.now(UTC).strftime("%Y-%m-%d")
    Path(f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    chart.draw(result, Path(f"{stem}.png"))
    print(f"wrote {stem}.json and {stem}.png in {result['elapsed_s']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
