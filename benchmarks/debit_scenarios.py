"""The debit scenarios of ``just bench``: single debits on one hot user and over 1,000
users, and batches of 1,000 debits, against pgbench running the debit's own statements
(``benchmarks.debits``: the same accounts, lots and SQL as ``just bench-debits``)."""

from __future__ import annotations

import json

from benchmarks import debits, references
from benchmarks.fixtures import BenchmarkFailed
from benchmarks.scenarios import Bench, Figure, Scenario, measured_run
from benchmarks.wrk import Request, write_requests

SINGLE_DEBITS = 30_000
BATCHES = 200


def _single(users: list[str], tag: str) -> list[Request]:
    return [
        Request(
            "POST",
            "/api/credits/debit",
            "Authorization",
            f"Bearer {debits.SERVICE_KEY}",
            b.decode(),
        )
        for b in debits.single_bodies(users, tag, SINGLE_DEBITS)
    ]


async def _pgbench(bench: Bench, hot: bool, clients: int) -> dict[str, object]:
    async with bench.servers_stopped():
        return await _run_pgbench(bench, hot, clients)


async def _run_pgbench(bench: Bench, hot: bool, clients: int) -> dict[str, object]:
    run = bench.offset("debit_pgbench", 1)  # each run's keys are its own
    return await references.run_for(
        bench.database,
        debits.pgbench_script(hot).replace("'pgb_'", f"'pgb{run}_'"),
        {},
        clients=clients,
        seconds=bench.seconds,
        per_client=1,
        offset=0,
        users=debits.USERS,
        workdir=bench.workdir,
    )


def single(name: str, hot: bool) -> Scenario:
    async def run(bench: Bench) -> Figure:
        users = [debits.HOT] if hot else [debits.user(j) for j in range(debits.USERS)]
        path = write_requests(
            bench.workdir / f"{name}{bench.tag}.requests", _single(users, f"{name}{bench.tag}")
        )
        service = await measured_run(bench, path, 16)
        return Figure(name, service, {"pgbench_same_sql": await _pgbench(bench, hot, 16)})

    return Scenario(name, run)


def batched() -> Scenario:
    async def run(bench: Bench) -> Figure:
        tag = f"batch{bench.tag}"
        requests = [
            Request(
                "POST", "/api/credits/debits", "Authorization", f"Bearer {debits.SERVICE_KEY}", body
            )
            for body in (json.dumps(json.loads(b)) for b in debits.batch_bodies(tag, BATCHES))
        ]
        path = write_requests(bench.workdir / f"{tag}.requests", requests)
        service = await measured_run(bench, path, debits.BATCH_CONNECTIONS)
        if service["requests"] >= BATCHES:
            raise BenchmarkFailed(f"{tag}: every batch was sent; seed more")
        per_debit = {
            **service,
            "per_second": service["per_second"] * debits.BATCH,
            "requests": service["requests"] * debits.BATCH,
        }
        return Figure(
            "debits_batched_1000", per_debit, {"pgbench_same_sql": await _pgbench(bench, False, 16)}
        )

    return Scenario("debits_batched_1000", run)


DEBIT_SCENARIOS = [single("debit_hot_user", True), single("debit_1000_users", False), batched()]
