"""The chart of a ``just bench`` run: throughput and p99 per scenario, service vs references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {
    "service": "#1f77b4",
    "pgbench_four_statements": "#aaaaaa",
    "pgbench_service_sql": "#666666",
    "bare_litestar": "#bbbbbb",
    "pgbench_same_sql": "#888888",
    "minimal_handler": "#2ca02c",
}


def _bars(result: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """(scenario label, series, requests/s, p99 ms) for every figure of every pass."""
    bars = []
    for pass_name in ("small", "scale"):
        for figure in result.get(pass_name, []):
            label = figure["scenario"] + (" (10M)" if pass_name == "scale" else "")
            service = figure["service"]
            bars.append((label, "service", service["per_second"], service["p99_ms"]))
            for name, ref in figure["references"].items():
                bars.append((label, name, ref["per_second"], ref["p99_ms"]))
    return bars


def draw(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = _bars(result)
    labels = list(dict.fromkeys(b[0] for b in bars))
    series = list(dict.fromkeys(b[1] for b in bars))
    width = 0.8 / len(series)
    figure, (rate_axis, p99_axis) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    for k, name in enumerate(series):
        xs, rates, p99s = [], [], []
        for label, s, rate, p99 in bars:
            if s == name:
                xs.append(labels.index(label) + k * width - 0.4 + width / 2)
                rates.append(rate)
                p99s.append(p99)
        colour = COLOURS.get(name)
        rate_axis.bar(xs, rates, width, label=name, color=colour)
        p99_axis.bar(xs, p99s, width, label=name, color=colour)
    rate_axis.set_ylabel("requests or transactions / s")
    rate_axis.set_yscale("log")
    p99_axis.set_ylabel("p99 latency, ms")
    p99_axis.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    rate_axis.legend(fontsize=8)
    cores = result.get("machine", {}).get("cores")
    rate_axis.set_title(
        f"creditline, {result.get('server', {}).get('command', '')}, {cores} cores, "
        f"PostgreSQL on the same machine ({result.get('date', '')})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
