"""Webhook throughput: the real app under uvicorn against pgbench on the same SQL.

    python -m benchmarks.webhooks [--events N] [--concurrency C] [--database-url URL]
                                  [--sqlite] [--json] [--profile FILE] ...

1. A fresh database (``creditline_bench_<random>`` on the PostgreSQL server, dropped at
   the end; or a temporary SQLite file with ``--sqlite``), migrated, seeded in bulk with
   ``--users`` users and pending PaymentIntent payments.
2. ``creditline serve`` in a subprocess on 127.0.0.1; after a warm-up, ``--events``
   signed ``payment_intent.succeeded`` events (distinct payments, shuffled) are posted
   by ``--concurrency`` keep-alive httpx clients, each request timed; then a sample is
   redelivered (the duplicate path).
3. Verification: every payment granted exactly once, every event recorded, every
   balance right, ``ledger verify`` clean. Any problem fails the run (exit 1).
4. PostgreSQL only: pgbench runs the same SQL transaction (derived from the app's own
   statements, see ``benchmarks.pgbench``) with the same client count for the same
   number of transactions; its rows are verified the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from benchmarks import fixtures, report
from benchmarks.fixtures import CANARY, CANARY_PAYMENTS, BenchDatabase, BenchmarkFailed
from benchmarks.load import Delivery, LoadResult, Stats, deliveries, post_all, summarise
from benchmarks.pgbench import PGBENCH_GROUP, capture_canary, derive_script, run_pgbench
from benchmarks.server import AppServer

APP_GROUP = "app"
WARMUP_GROUP = "warm"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhooks",
        description="Benchmark POST /api/stripe/webhook against pgbench on the same SQL.",
    )
    parser.add_argument("--events", type=int, default=2000, help="events to deliver (2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--users", type=int, default=100, help="users owning the payments (100)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured events first (200)")
    parser.add_argument(
        "--duplicates", type=float, default=0.1, help="fraction redelivered afterwards (0.1)"
    )
    parser.add_argument(
        "--database-url",
        default=fixtures.DEFAULT_SERVER_URL,
        help=f"PostgreSQL server to create the database on ({fixtures.DEFAULT_SERVER_URL})",
    )
    parser.add_argument("--sqlite", action="store_true", help="benchmark SQLite instead")
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench comparison")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="limit for each load phase, s (120)"
    )
    parser.add_argument("--profile", type=Path, help="run the server under cProfile into FILE")
    parser.add_argument("--show-script", action="store_true", help="print the pgbench script")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the work directory"
    )
    args = parser.parse_args(argv)
    for name in ("events", "concurrency", "users"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0 or not 0 <= args.duplicates <= 1:
        parser.error("--warmup must be >= 0 and --duplicates between 0 and 1")
    return args


class Ui:
    """Progress bars on stderr when it is a terminal (and not --json); silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=not (enabled and self.console.is_terminal),
        )

    def counter(self, description: str, total: int) -> Callable[[int], None]:
        """A bar of ``total`` steps; call the result with the number of steps done."""
        task = self.progress.add_task(description, total=total)
        return lambda n: self.progress.advance(task, n)

    @contextlib.contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A spinner while the block runs, shown as done (1/1) afterwards."""
        task = self.progress.add_task(description, total=1)
        yield
        self.progress.update(task, completed=1)


async def run(args: argparse.Namespace, ui: Ui) -> dict[str, Any]:
    started = time.perf_counter()
    with_pgbench = not args.sqlite and not args.no_pgbench
    per_client = math.ceil(args.events / args.concurrency)
    groups = {WARMUP_GROUP: args.warmup, APP_GROUP: args.events}
    if with_pgbench:
        groups |= {CANARY: CANARY_PAYMENTS, PGBENCH_GROUP: per_client * args.concurrency}
    database = await BenchDatabase.create(args.database_url, sqlite=args.sqlite)
    workdir = Path(tempfile.mkdtemp(prefix="creditline_bench_run_"))
    keep_workdir = args.keep
    ui.progress.start()
    try:
        secret = f"whsec_bench_{secrets.token_hex(16)}"
        captured = None
        with ui.step(f"{database.backend}: set up"):
            await fixtures.migrate(database.url)
            await fixtures.seed(database.url, args.users, groups)
            if with_pgbench:
                captured = await capture_canary(database.url, secret, args.users)
        load_before = os.getloadavg()
        app, dup, log_bytes, counters = await _drive_app(args, ui, database, secret, workdir)
        problems = await fixtures.verify(
            database.url, {k: v for k, v in groups.items() if k != PGBENCH_GROUP}
        )
        if problems:
            raise BenchmarkFailed("verification after the app run:\n  " + "\n  ".join(problems))
        result: dict[str, Any] = {
            "backend": database.backend,
            "events": args.events,
            "concurrency": args.concurrency,
            "users": args.users,
            "warmup": args.warmup,
            "app": asdict(app),
            "duplicates": asdict(dup) if dup else None,
            "pgbench": None,
            "ratio": None,
            "round_trips": None,
            "verified": True,
            "server_log_bytes_per_event": round(log_bytes),
            "database_activity": counters,
            "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
            "cpus": os.cpu_count(),
        }
        if captured is not None:
            script = derive_script(captured)
            if args.show_script:
                ui.console.print(script.text, markup=False, highlight=False)
            with ui.step("pgbench, same SQL"):
                pgb = await run_pgbench(
                    database,
                    script,
                    clients=args.concurrency,
                    per_client=per_client,
                    users=args.users,
                    workdir=workdir,
                    deadline_s=args.timeout,
                )
            problems = await fixtures.verify(database.url, groups)
            if problems:
                raise BenchmarkFailed("verification after pgbench:\n  " + "\n  ".join(problems))
            result["pgbench"] = {
                "clients": pgb.clients,
                "threads": pgb.threads,
                "transactions": pgb.transactions,
                "tps": pgb.tps,
                "latency_avg_ms": pgb.latency_avg_ms,
                **{k: getattr(pgb.stats, k) for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                "script": script.text,
            }
            result["ratio"] = {
                "throughput": app.per_second / pgb.tps if pgb.tps else None,
                "p50_latency": app.p50_ms / pgb.stats.p50_ms if pgb.stats.p50_ms else None,
            }
            result["round_trips"] = {
                "app": captured.round_trips,
                "pgbench": len(captured.statements) + 2,
                "pool_pre_ping": captured.pre_ping,
                "statements": [s.label for s in captured.statements],
            }
        result["elapsed_s"] = time.perf_counter() - started
        return result
    except BaseException:
        keep_workdir = True
        raise
    finally:
        ui.progress.stop()
        if args.profile:
            ui.console.print(f"server profile (cProfile) written to {args.profile}")
        if args.keep:
            ui.console.print(f"kept database {database.name}")
        else:
            await database.drop()
        if keep_workdir:
            ui.console.print(f"kept {workdir} (server log, pgbench script and logs)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _drive_app(
    args: argparse.Namespace, ui: Ui, database: BenchDatabase, secret: str, workdir: Path
) -> tuple[Stats, Stats | None, float, dict[str, float] | None]:
    order = list(range(args.events))
    random.shuffle(order)
    events = deliveries(APP_GROUP, order, args.users, "granted")
    warm = deliveries(WARMUP_GROUP, range(args.warmup), args.users, "granted")
    sample = random.sample(range(args.events), round(args.events * args.duplicates))
    by_index = dict(zip(order, events, strict=True))
    repeats = [by_index[i] for i in sample]
    counters_before = await fixtures.database_counters(database.url)
    async with AppServer(database.url, secret, workdir / "server.log", args.profile) as server:

        async def phase(name: str, items: list[Delivery]) -> LoadResult:
            advance = ui.counter(name, len(items))
            result = await post_all(
                server.base_url,
                items,
                secret=secret,
                concurrency=args.concurrency,
                deadline_s=args.timeout,
                server_cpu=server.cpu_seconds,
                advance=advance,
            )
            if result.failed:
                raise BenchmarkFailed(
                    f"{name}: {result.failed} request(s) failed, e.g.\n  "
                    + "\n  ".join(result.failures)
                    + f"\nserver log tail:\n{server.log_tail()}"
                )
            return result

        if warm:
            await phase("warm-up", warm)
        log_before = _size(server.log_path)
        main = await phase("new events", events)
        log_bytes = _size(server.log_path) - log_before
        again = await phase("redeliveries", [_duplicate(d) for d in repeats]) if repeats else None
    counters = await _counter_deltas(
        database.url, counters_before, len(warm) + len(events) + len(repeats)
    )
    app = summarise(main.latencies, main.elapsed, main.server_cpu, main.client_cpu)
    dup = (
        summarise(again.latencies, again.elapsed, again.server_cpu, again.client_cpu)
        if again
        else None
    )
    return app, dup, log_bytes / len(events), counters


async def _counter_deltas(
    url: str, before: dict[str, int] | None, requests: int
) -> dict[str, float] | None:
    """Over the server's life: connections it opened, transactions per request."""
    await asyncio.sleep(0.5)  # the server's backends flush their statistics as they exit
    after = await fixtures.database_counters(url)
    if before is None or after is None or not requests:
        return None
    return {
        "connections_opened": after["sessions"] - before["sessions"] - 1,  # minus this probe
        "commits_per_request": (after["commits"] - before["commits"]) / requests,
        "rollbacks_per_request": (after["rollbacks"] - before["rollbacks"]) / requests,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _duplicate(delivery: Delivery) -> Delivery:
    return Delivery(delivery.body, "duplicate")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    ui = Ui(enabled=not args.json)
    try:
        result = asyncio.run(run(args, ui))
    except BenchmarkFailed as exc:
        ui.console.print(f"[bold red]benchmark failed:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if args.json:
        print(json.dumps(result, indent=2))
        for line in [*report.warnings(result), report.summary(result)]:
            ui.console.print(line, highlight=False)
    else:
        report.show(result, Console())


if __name__ == "__main__":
    main(sys.argv[1:])
