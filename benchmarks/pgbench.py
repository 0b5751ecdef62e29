"""pgbench running the webhook's own SQL transaction, on the same schema and machine.

The script is derived, not hand-copied, so it cannot drift from the adapters: one
signed event (the canary) goes in-process through the real webhook path
(``receive_webhook`` with the app's container) while every statement, its parameters
and any ``RETURNING`` row are recorded. Each statement then appears in the script
byte for byte, in the same order, between ``BEGIN`` and ``COMMIT``, with its
parameters still bound (``-M prepared``, as asyncpg does), mapped to this client's row:

- a value naming the canary (``pay_canary_0``, ``purchase:pay_canary_0`` ...) names
  pgbench's payment ``p`` instead (``pay_pgb_<p>`` ...), and the canary's user is
  ``usr_bench_<p mod users>``, the owner of that payment;
- the canary's clock reading is ``now()``;
- an outbox event id (a hash of its fact, ``evt_<32 hex>``) becomes ``evt_<n>_pgb_<p>``,
  its ``n`` the order it first appeared in, so pgbench's facts are distinct as the app's are;
- a value an earlier statement returned (the balance from ``UPDATE accounts ...
  RETURNING``) is taken from that statement's result with ``\\gset``, as the app does;
- an array is the array of its elements, each mapped so;
- anything else is bound as the canary bound it (``-D`` variables); NULL stays NULL.

Client ``c`` runs transactions ``c*t .. c*t+t-1``, each on payment
``p = permute(k, n, seed)``: every transaction fulfils a distinct pending payment,
in pseudo-random order, as the app's events do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from adapters.clock import FixedClock
from adapters.stripe.signatures import sign_payload
from application.webhooks.receive_webhook import receive_webhook
from benchmarks.fixtures import CANARY, CANARY_USER, BenchDatabase, BenchmarkFailed
from benchmarks.load import Stats, succeeded_event, summarise
from benchmarks.server import CLOSED_API_BASE, DUMMY_SECRET_KEY
from entrypoints.container import build_container
from entrypoints.settings import load_settings

CANARY_TOKEN = f"{CANARY}_0"
PGBENCH_GROUP = "pgb"
PARAMETER = re.compile(r"\$(\d+)")
FACT_ID = re.compile(r"evt_[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    parameters: tuple[Any, ...]
    returned: dict[str, Any] | None  # the first row, when the statement returned rows

    @property
    def label(self) -> str:
        """``INSERT processed_events``, ``SELECT payments FOR UPDATE`` ..."""
        words = self.sql.split()
        verb = words[0].upper()
        table = next(
            (words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() in {"INTO", "FROM"}),
            words[1] if len(words) > 1 else "",
        )
        suffix = " FOR UPDATE" if "FOR UPDATE" in self.sql.upper() else ""
        suffix += " ON CONFLICT" if "ON CONFLICT" in self.sql.upper() else ""
        suffix += " RETURNING" if " RETURNING " in self.sql.upper() else ""
        return f"{verb} {table}{suffix}"


@dataclass(frozen=True, slots=True)
class Captured:
    """What the webhook path sent to the database for one event."""

    statements: list[Statement]
    outcome: str
    pre_ping: bool
    now: datetime  # the canary's clock reading

    @property
    def round_trips(self) -> int:
        """Per event: the pool's pre-ping (BEGIN, ``;``, ROLLBACK), BEGIN, statements, COMMIT."""
        return (3 if self.pre_ping else 0) + 1 + len(self.statements) + 1


@dataclass(frozen=True, slots=True)
class Script:
    text: str
    defines: dict[str, str]


@dataclass(frozen=True, slots=True)
class PgbenchResult:
    clients: int
    threads: int
    transactions: int
    failed: int
    tps: float
    latency_avg_ms: float
    stats: Stats
    command: list[str] = field(default_factory=list)


async def capture_canary(url: str, secret: str, user_count: int) -> Captured:
    """Deliver the canary event through the real webhook path, recording its SQL."""
    settings = load_settings(
        {
            "DATABASE_URL": url,
            "PAYMENT_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": DUMMY_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": secret,
            "STRIPE_API_BASE": CLOSED_API_BASE,
        }
    )
    container = build_container(settings)
    engine = container.engine()
    gateway = container.gateway()
    statements: list[Statement] = []

    def record(_conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        rows = getattr(cursor, "_rows", None)
        names = [column[0] for column in cursor.description or ()]
        first = dict(zip(names, tuple(rows[0]), strict=True)) if rows and names else None
        statements.append(Statement(sql, tuple(parameters or ()), first))

    now = datetime.now(UTC)

    async def deliver(index: int) -> str:
        timestamp = int(time.time())
        body = succeeded_event(CANARY, index, user_count, timestamp)
        outcome = await receive_webhook(
            body,
            sign_payload(body, secret, timestamp),
            gateway=gateway,
            uow_factory=container.uow_factory(),
            clock=FixedClock(now if index == 0 else datetime.now(UTC)),
        )
        return outcome.value

    try:
        first = await deliver(1)  # the user's first purchase: its balance is now 1000
        event.listen(engine.sync_engine, "after_cursor_execute", record)
        try:
            outcome = await deliver(0)
        finally:
            event.remove(engine.sync_engine, "after_cursor_execute", record)
    finally:
        with contextlib.suppress(Exception):
            await gateway.aclose()
        await engine.dispose()
    if first != "granted" or outcome != "granted":
        raise BenchmarkFailed(f"the canary events were not granted: {first}, {outcome}")
    pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
    return Captured(statements, outcome, pre_ping, now)


def derive_script(captured: Captured) -> Script:
    """The pgbench script running ``captured``'s transaction on pgbench's payment ``p``."""
    defines: dict[str, str] = {}

    def bind(value: str) -> str:
        name = f"v{len(defines) + 1}"
        defines[name] = value
        return f":{name}"

    def canary_string(value: str) -> str:
        parts = value.split(CANARY_TOKEN)
        pieces = []
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            literal = part if last else f"{part}{PGBENCH_GROUP}_"
            if literal:
                pieces.append(f"{bind(literal)}::text")
            if not last:
                pieces.append(":p::text")
        return f"({' || '.join(pieces)})"

    facts: dict[str, int] = {}

    def fact_id(value: str) -> str:
        n = facts.setdefault(value, len(facts))
        return f"({bind(f'evt_{n}_{PGBENCH_GROUP}_')}::text || :p::text)"

    returned: list[tuple[str, Any]] = []  # (pgbench variable, value), oldest first
    gset: set[int] = set()

    def mapped(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, list):  # the outbox's rows, as arrays
            return f"ARRAY[{', '.join(mapped(v) for v in value)}]"
        if isinstance(value, str) and CANARY_TOKEN in value:
            return canary_string(value)
        if isinstance(value, str) and FACT_ID.fullmatch(value):
            return fact_id(value)
        if value == CANARY_USER:
            return f"({bind('usr_bench_')}::text || :u::text)"
        if isinstance(value, datetime) and value == captured.now:
            return "now()"
        for variable, earlier in reversed(returned):
            if type(earlier) is type(value) and not isinstance(value, bool) and earlier == value:
                gset.add(int(variable[1 : variable.index("_")]))
                return f":{variable}"
        if isinstance(value, bool):
            return bind("true" if value else "false")
        if isinstance(value, datetime):
            return bind(value.isoformat())
        if isinstance(value, str | int | float):
            return bind(str(value))
        raise BenchmarkFailed(f"cannot bind a {type(value).__name__} in pgbench: {value!r}")

    bodies = []
    for index, statement in enumerate(captured.statements, start=1):
        values = [mapped(v) for v in statement.parameters]
        sql = PARAMETER.sub(lambda m, values=values: values[int(m.group(1)) - 1], statement.sql)
        bodies.append(" ".join(sql.split()))
        if statement.returned and not statement.sql.lstrip().upper().startswith("SELECT"):
            returned += [(f"r{index}_{name}", v) for name, v in statement.returned.items()]
    lines = [
        "-- Generated by benchmarks.pgbench from the SQL the webhook path executed for one",
        "-- payment_intent.succeeded event (see the module docstring). Run with -M prepared",
        "-- -D i=0 -D per_client=<t> -D n=<clients*t> -D seed=<s> -D users=<u> and the v*.",
        "\\set k :client_id * :per_client + :i",
        "\\set i :i + 1",
        "\\set p :offset + permute(:k, :n, :seed)",
        "\\set u :p % :users",
        "BEGIN;",
    ]
    for index, body in enumerate(bodies, start=1):
        lines.append(f"{body} \\gset r{index}_" if index in gset else f"{body};")
    lines.append("COMMIT;")
    return Script("\n".join(lines) + "\n", defines)


async def run_pgbench(
    database: BenchDatabase,
    script: Script,
    *,
    clients: int,
    per_client: int,
    users: int,
    workdir: Path,
    deadline_s: float,
) -> PgbenchResult:
    executable = shutil.which("pgbench")
    if executable is None:
        raise BenchmarkFailed("pgbench is not on PATH (or run with --no-pgbench)")
    script_path = workdir / "webhook_transaction.sql"
    script_path.write_text(script.text)
    log_prefix = workdir / "pgbench_log"
    threads = max(1, min(clients, os.cpu_count() or 1))
    options, env = database.libpq()
    defines = {
        "i": "0",
        "offset": "0",
        "per_client": str(per_client),
        "n": str(clients * per_client),
        "seed": str(secrets.randbelow(2**31)),
        "users": str(users),
        **script.defines,
    }
    command = [
        executable,
        "--no-vacuum",
        "--protocol=prepared",
        *options,
        f"--client={clients}",
        f"--jobs={threads}",
        f"--transactions={per_client}",
        f"--file={script_path}",
        "--log",
        f"--log-prefix={log_prefix}",
        *(f"--define={k}={v}" for k, v in defines.items()),
        database.name,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | env,
        cwd=workdir,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), deadline_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchmarkFailed(f"pgbench did not finish within {deadline_s:g} s") from None
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    expected = clients * per_client
    processed = _number(r"actually processed: (\d+)", stdout)
    failed = _number(r"number of failed transactions: (\d+)", stdout) or 0
    if process.returncode != 0 or processed != expected or failed:
        raise BenchmarkFailed(
            f"pgbench exited {process.returncode}, processed {processed}/{expected}, "
            f"failed {failed}:\n{stderr[-2000:]}{stdout[-1000:]}"
        )
    tps = _number(r"tps = ([\d.]+)", stdout, float)
    latency = _number(r"latency average = ([\d.]+) ms", stdout, float)
    latencies = _logged_latencies(workdir, log_prefix.name)
    stats = summarise(latencies, processed / tps if tps else 0.0)
    return PgbenchResult(
        clients=clients,
        threads=threads,
        transactions=processed,
        failed=failed,
        tps=tps or 0.0,
        latency_avg_ms=latency or 0.0,
        stats=stats,
        command=[*command[:-1], database.name],
    )


def _number(pattern: str, text: str, kind: type = int) -> Any:
    found = re.search(pattern, text)
    return kind(found.group(1)) if found else None


def _logged_latencies(workdir: Path, prefix: str) -> list[float]:
    """Per-transaction latencies (s) from pgbench --log files (3rd field: microseconds)."""
    latencies = []
    for path in workdir.glob(f"{prefix}.*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1e6)
    return latencies
