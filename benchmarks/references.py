"""pgbench references for the webhook scenarios, each run for a bounded time.

``FOUR_STATEMENTS``: the least a first-time grant could cost — claim the event, complete
the payment, move the balance (``RETURNING``), append the entry — written by hand on
group ``ref``. ``service_script``: the app's own SQL for one event, captured and derived
by ``benchmarks.pgbench`` (group ``pgb``). Client ``c`` takes payments ``offset + c*t ..``
(``t`` = per client), so a run never touches a payment twice as long as no client
exceeds ``t`` transactions; the suite checks that afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from benchmarks.fixtures import BenchDatabase, BenchmarkFailed
from benchmarks.load import summarise
from benchmarks.pgbench import _logged_latencies

FOUR_GROUP = "ref"
FOUR_STATEMENTS = (Path(__file__).with_name("sql") / "four_statements.sql").read_text()


async def run_for(
    database: BenchDatabase,
    script: str,
    defines: dict[str, str],
    *,
    clients: int,
    seconds: float,
    per_client: int,
    offset: int,
    users: int,
    workdir: Path,
) -> dict[str, Any]:
    """tps, p50 and p99 of ``script`` run by ``clients`` for ``seconds``."""
    executable = shutil.which("pgbench")
    if executable is None:
        raise BenchmarkFailed("pgbench is not on PATH (apt-get install postgresql-client)")
    tag = secrets.token_hex(3)
    path = workdir / f"script_{tag}.sql"
    path.write_text(script)
    options, env = database.libpq()
    variables = defines | {
        "i": "0",
        "offset": str(offset),
        "per_client": str(per_client),
        "n": str(clients * per_client),
        "seed": str(secrets.randbelow(2**31)),
        "users": str(users),
    }
    command = [
        executable,
        "--no-vacuum",
        "--protocol=prepared",
        *options,
        f"--client={clients}",
        f"--jobs={min(clients, os.cpu_count() or 1)}",
        f"--time={seconds:g}",
        f"--file={path}",
        "--log",
        f"--log-prefix=log_{tag}",
        *(f"--define={k}={v}" for k, v in variables.items()),
        database.name,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | env,
        cwd=workdir,
    )
    out, err = await asyncio.wait_for(process.communicate(), seconds + 60)
    stdout = out.decode(errors="replace")
    processed = re.search(r"actually processed: (\d+)", stdout)
    tps = re.search(r"tps = ([\d.]+)", stdout)
    failed = re.search(r"number of failed transactions: (\d+)", stdout)
    if (
        process.returncode != 0
        or processed is None
        or tps is None
        or int(failed.group(1) if failed else 0)
    ):
        raise BenchmarkFailed(f"pgbench failed: {err.decode()[-1500:]}{stdout[-800:]}")
    latencies = _logged_latencies(workdir, f"log_{tag}")
    stats = summarise(latencies, seconds)
    return {
        "transactions": int(processed.group(1)),
        "per_second": float(tps.group(1)),
        "p50_ms": stats.p50_ms,
        "p99_ms": stats.p99_ms,
        "max_per_client": _max_per_client(workdir, f"log_{tag}"),
    }


def _max_per_client(workdir: Path, prefix: str) -> int:
    """The most transactions one client ran (first field of the log: the client id)."""
    counts: dict[str, int] = {}
    for path in workdir.glob(f"{prefix}.*"):
        for line in path.read_text().splitlines():
            client = line.split(maxsplit=1)[0]
            counts[client] = counts.get(client, 0) + 1
    return max(counts.values(), default=0)
