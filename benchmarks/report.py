"""The benchmark's outputs: a rich table, one JSON object, a one-line summary."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ms(value: Any) -> str:
    return "-" if _missing(value) else f"{value:.2f}"


def _rate(value: Any) -> str:
    return "-" if _missing(value) else f"{value:,.0f}"


def table(result: dict[str, Any]) -> Table:
    app, dup, pgb = result["app"], result.get("duplicates"), result.get("pgbench")
    title = (
        f"webhooks on {result['backend']}: {app['count']} events, "
        f"{result['concurrency']} concurrent clients, {result['users']} users"
    )
    out = Table(title=title, title_justify="left")
    out.add_column("")
    out.add_column("app", justify="right")
    if dup:
        out.add_column("app, dup", justify="right")
    if pgb:
        out.add_column("pgbench", justify="right")
        out.add_column("app/pgb", justify="right")

    def row(
        label: str, key: str, fmt: Any, pgb_key: str | None = None, ratio: bool = False
    ) -> None:
        cells = [label, fmt(app.get(key))]
        if dup:
            cells.append(fmt(dup.get(key)))
        if pgb:
            value = pgb.get(pgb_key or key)
            cells.append(fmt(value))
            both = app.get(key) is not None and value
            cells.append(f"{app[key] / value:.2f}x" if ratio and both else "")
        out.add_row(*cells)

    row("events/s (tps)", "per_second", _rate, "tps", ratio=True)
    row("mean, ms", "mean_ms", _ms, "latency_avg_ms", ratio=True)
    row("p50, ms", "p50_ms", _ms, ratio=True)
    row("p90, ms", "p90_ms", _ms, ratio=True)
    row("p99, ms", "p99_ms", _ms, ratio=True)
    row("max, ms", "max_ms", _ms, ratio=True)
    row("server CPU ms/event", "server_cpu_ms_per_event", _ms)
    row("client CPU ms/event", "client_cpu_ms_per_event", _ms)
    trips = result.get("round_trips")
    if trips:
        cells = ["DB round trips", str(trips["app"])]
        if dup:
            cells.append("")
        if pgb:
            cells += [str(trips["pgbench"]), ""]
        out.add_row(*cells)
    return out


def summary(result: dict[str, Any]) -> str:
    app, dup, pgb = result["app"], result.get("duplicates"), result.get("pgbench")
    text = (
        f"{result['backend']}: {app['per_second']:,.0f} webhook events/s "
        f"(p50 {app['p50_ms']:.1f} ms, p99 {app['p99_ms']:.1f} ms; "
        f"n={app['count']}, c={result['concurrency']})"
    )
    if dup:
        text += f"; redeliveries {dup['per_second']:,.0f}/s (p50 {dup['p50_ms']:.1f} ms)"
    if pgb:
        text += (
            f"; pgbench same SQL {pgb['tps']:,.0f} tps (avg {pgb['latency_avg_ms']:.2f} ms)"
            f"; app/pgbench {result['ratio']['throughput']:.2f}"
        )
    return text + "; verified: every payment granted once, ledger clean"


def warnings(result: dict[str, Any]) -> list[str]:
    """The 1-minute load average just before the load phase says whether others ran."""
    before = (result.get("load_average") or {}).get("before", 0.0)
    cpus = result.get("cpus") or 1
    if before > 0.75 * cpus:
        return [
            f"warning: load average {before:.1f} on {cpus} CPUs before the run: other work "
            "shares the machine, so rates and latencies are pessimistic (CPU ms/event is steadier)"
        ]
    return []


def database_line(result: dict[str, Any]) -> str | None:
    activity = result.get("database_activity")
    if not activity:
        return None
    return (
        f"database, over the server's life: {activity['connections_opened']} connections opened; "
        f"per request {activity['commits_per_request']:.2f} commits, "
        f"{activity['rollbacks_per_request']:.2f} rollbacks"
    )


def show(result: dict[str, Any], console: Console) -> None:
    console.print(table(result))
    line = database_line(result)
    if line:
        console.print(line, highlight=False)
    for line in warnings(result):
        console.print(line, style="yellow", highlight=False)
    console.print(summary(result), highlight=False)
