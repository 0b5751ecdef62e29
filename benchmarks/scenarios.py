"""The scenarios of ``just bench``: each measures the service and its references in one run.

A scenario is a name and a coroutine taking the run's ``Bench`` and returning a figure:
the service's requests/s, p50 and p99, and each reference's, measured minutes apart on
the same machine. ``SCENARIOS`` and the debits' (``debit_scenarios.py``: one hot user,
1,000 users, batched; reference: pgbench on the same statements) are what
``benchmarks.suite`` runs, in order; a new scenario is one more ``Scenario(name, run)``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.stripe.signatures import sign_payload
from benchmarks import references, seed_sql
from benchmarks.fixtures import BenchDatabase, BenchmarkFailed
from benchmarks.load import WEBHOOK_PATH, succeeded_event
from benchmarks.pgbench import PGBENCH_GROUP, Script
from benchmarks.server import AppServer
from benchmarks.wrk import Request, WrkResult, run_wrk, write_requests

WEBHOOK_PAYMENTS = 20_000  # more than a run can use at this machine's rates
PGBENCH_PER_CLIENT = {16: 2_500, 64: 1_000}
SETTLE_SECONDS = 2.0
MINIMAL_WEBHOOK_PATH = "/minimal/webhook"
WARM_UP_EVENTS = 5_000
WARM_UP_SECONDS = 2.0


@dataclass
class Bench:
    """What the scenarios share: the database, the servers, the settings of this pass."""

    database: BenchDatabase
    engine: AsyncEngine
    workdir: Path
    secret: str
    app: AppServer
    bare: AppServer
    users: int
    readers: str  # the population whose keys the reads use: "bench" or "scale"
    seconds: float
    tag: str  # "" for the small database, "x" once the ten million rows are in
    service_script: Script
    next_offset: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def note_rss(self) -> None:
        self.peak_rss_mb = max(self.peak_rss_mb, self.app.peak_worker_rss_mb())

    @asynccontextmanager
    async def servers_stopped(self) -> AsyncIterator[None]:
        """pgbench's 64 clients and the servers' pools would pass max_connections."""
        self.note_rss()
        await self.app.stop()
        await self.bare.stop()
        try:
            yield
        finally:
            await self.app.start()
            await self.bare.start()

    def offset(self, group: str, count: int) -> int:
        start = self.next_offset.get(group, 0)
        self.next_offset[group] = start + count
        return start


@dataclass(frozen=True, slots=True)
class Figure:
    scenario: str
    service: dict[str, Any]
    references: dict[str, dict[str, Any]]

    def ratios(self) -> dict[str, float]:
        mine = self.service["per_second"]
        return {k: round(mine / v["per_second"], 3) for k, v in self.references.items()}

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratios": self.ratios()}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    run: Callable[[Bench], Awaitable[Figure]]


async def measured_run(
    bench: Bench, path: Path, connections: int, server: AppServer | None = None
) -> dict[str, Any]:
    """wrk on the service (or ``server``): its figures and that server's workers' CPU per
    request; no errors."""
    target = bench.app if server is None else server
    cpu = target.workers_cpu_seconds()
    result = await run_wrk(target.base_url, path, connections=connections, seconds=bench.seconds)
    cpu = target.workers_cpu_seconds() - cpu
    if result.errors:
        raise BenchmarkFailed(f"{path.name}: {result.errors} errors\n{target.log_tail()}")
    if server is None:
        bench.note_rss()
    return _measured(result) | {"server_cpu_ms_per_request": _per(cpu, result)}


def _measured(result: WrkResult) -> dict[str, Any]:
    return asdict(result)


def _per(cpu_seconds: float, result: WrkResult) -> float:
    """The workers' CPU per answered request, ms: steadier than rates on a shared machine."""
    return round(1000 * cpu_seconds / max(result.requests, 1), 3)


async def signed_events(bench: Bench, group: str, count: int, path: str = WEBHOOK_PATH) -> Path:
    """``count`` pending payments of ``group`` and a file of their signed events to ``path``."""
    async with bench.engine.begin() as conn:
        await seed_sql.payments(conn, group, count, bench.users)
    now = int(time.time())
    requests = []
    for i in range(count):
        body = json.dumps(json.loads(succeeded_event(group, i, bench.users, now)))
        signature = sign_payload(body.encode(), bench.secret, now)
        requests.append(Request("POST", path, "Stripe-Signature", signature, body))
    return write_requests(bench.workdir / f"{group}.requests", requests)


async def warm_up(bench: Bench) -> None:
    """Unmeasured traffic first: imports, pools and statement caches of every worker."""
    path = await signed_events(bench, f"warm{bench.tag}", WARM_UP_EVENTS)
    await run_wrk(bench.app.base_url, path, connections=16, seconds=WARM_UP_SECONDS)
    await asyncio.sleep(SETTLE_SECONDS)


def webhook(connections: int) -> Scenario:
    async def run(bench: Bench) -> Figure:
        group = f"w{connections}{bench.tag}"
        path = await signed_events(bench, group, WEBHOOK_PAYMENTS)
        url = bench.app.base_url
        cpu = bench.app.workers_cpu_seconds()
        result = await run_wrk(url, path, connections=connections, seconds=bench.seconds)
        cpu = bench.app.workers_cpu_seconds() - cpu
        if result.errors or result.requests > WEBHOOK_PAYMENTS:
            raise BenchmarkFailed(f"{group}: {result.errors} errors, {result.requests} requests")
        await asyncio.sleep(SETTLE_SECONDS)  # requests still in flight when wrk stopped
        await check_group(bench.engine, group, (result.requests, connections), events=True)
        minimal = await _minimal_webhooks(bench, f"m{connections}{bench.tag}", connections)
        async with bench.servers_stopped():
            refs = {
                "minimal_handler": minimal,
                "pgbench_four_statements": await _pgbench(
                    bench, references.FOUR_GROUP, references.FOUR_STATEMENTS, {}, connections
                ),
                "pgbench_service_sql": await _pgbench(
                    bench,
                    PGBENCH_GROUP,
                    bench.service_script.text,
                    bench.service_script.defines,
                    connections,
                ),
            }
        service = _measured(result) | {"server_cpu_ms_per_request": _per(cpu, result)}
        return Figure(f"webhook_{connections}", service, refs)

    return Scenario(f"webhook_{connections}", run)


async def _minimal_webhooks(bench: Bench, group: str, connections: int) -> dict[str, Any]:
    """The hand-written handler (``bare_app``) on the same kind of events, checked alike."""
    path = await signed_events(bench, group, WEBHOOK_PAYMENTS, MINIMAL_WEBHOOK_PATH)
    figure = await measured_run(bench, path, connections, bench.bare)
    if figure["requests"] > WEBHOOK_PAYMENTS:
        raise BenchmarkFailed(f"{group}: {figure['requests']} requests")
    await asyncio.sleep(SETTLE_SECONDS)
    await check_group(bench.engine, group, (figure["requests"], connections), events=True)
    return figure


async def _pgbench(
    bench: Bench, group: str, script: str, defines: dict[str, str], clients: int
) -> dict[str, Any]:
    per_client = PGBENCH_PER_CLIENT[clients]
    count = clients * per_client
    start = bench.offset(group, count)
    async with bench.engine.begin() as conn:
        await seed_sql.payments(conn, group, count, bench.users, start=start)
    result = await references.run_for(
        bench.database,
        script,
        defines,
        clients=clients,
        seconds=bench.seconds,
        per_client=per_client,
        offset=start,
        users=bench.users,
        workdir=bench.workdir,
    )
    if result["max_per_client"] > per_client:
        raise BenchmarkFailed(f"pgbench {group}: a client ran past its {per_client} payments")
    await check_group(bench.engine, group, None, events=group == PGBENCH_GROUP)
    return result


def read(name: str, path: str, minimal: str, connections: int = 16) -> Scenario:
    """``path`` on the service against ``/constant`` and the hand-written ``minimal``."""

    async def run(bench: Bench) -> Figure:
        keys = [seed_sql.api_key(bench.readers, j) for j in range(1000)]
        requests = [Request("GET", path, "Authorization", f"Bearer {k}") for k in keys]
        mine = write_requests(bench.workdir / f"{name}.requests", requests)
        bare = [Request("GET", "/constant", "Authorization", f"Bearer {k}") for k in keys]
        constant = write_requests(bench.workdir / "constant.requests", bare)
        least = [Request("GET", minimal, "Authorization", f"Bearer {k}") for k in keys]
        same_io = write_requests(bench.workdir / f"{name}.minimal.requests", least)
        service = await measured_run(bench, mine, connections)
        reference = await run_wrk(
            bench.bare.base_url, constant, connections=connections, seconds=bench.seconds
        )
        by_hand = await measured_run(bench, same_io, connections, bench.bare)
        refs = {"bare_litestar": _measured(reference), "minimal_handler": by_hand}
        return Figure(name, service, refs)

    return Scenario(name, run)


SCENARIOS: list[Scenario] = [
    webhook(16),
    webhook(64),
    read("balance_16", "/user/balance", "/minimal/balance"),
    read("history_16", "/user/credit-transactions", "/minimal/history"),
]
"""The debit scenarios (``debit_scenarios.py``) are appended by ``benchmarks.suite``."""


async def check_group(
    engine: AsyncEngine, group: str, sent: tuple[int, int] | None, *, events: bool
) -> None:
    """Each completed payment of ``group`` granted once, each grant a completed payment;
    with ``events``, each granted once per event; ``sent``: (answered, connections): as
    many paid as were answered, plus at most one in flight per connection at the end."""
    prefix = {"pay": f"pay_{group}_", "evt": f"evt_{group}_"}
    async with engine.connect() as conn:
        completed = await conn.scalar(
            text(
                "SELECT count(*) FROM payments WHERE starts_with(id, :pay) AND status = 'completed'"
            ),
            prefix,
        )
        entries, keys = (
            await conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT idempotency_key) FROM ledger_entries "
                    "WHERE kind = 'purchase' AND starts_with(reference_id, :pay)"
                ),
                prefix,
            )
        ).one()
        outcomes = dict(
            (
                await conn.execute(
                    text(
                        "SELECT coalesce(outcome, 'none'), count(*) FROM processed_events "
                        "WHERE starts_with(event_id, :evt) GROUP BY 1"
                    ),
                    prefix,
                )
            ).all()
        )
    problems = []
    if not completed == entries == keys:
        problems.append(f"{completed} paid, {entries} grants, {keys} distinct keys")
    if events and outcomes != ({"granted": completed} if completed else {}):
        problems.append(f"event outcomes {outcomes} for {completed} paid")
    if sent is not None and not sent[0] <= completed <= sent[0] + sent[1]:
        problems.append(f"{sent[0]} events answered, {completed} paid")
    if problems:
        raise BenchmarkFailed(f"group {group}: " + "; ".join(problems))
