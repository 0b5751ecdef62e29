"""A job's report for people (failures, then one summary line) and for machines (JSON).

Exit codes: 0 everything settled, 1 some items failed (they are listed) or the job
itself failed, 2 bad usage (cyclopts and the option checks), 130 stopped by a signal
with work left (a scheduler should run it again).
"""

from __future__ import annotations

import json
from typing import Any

from application.batch import JobReport

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def exit_code(report: JobReport) -> int:
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_FAILED


def as_dict(report: JobReport, seconds: float) -> dict[str, Any]:
    return {
        "job": report.job,
        "ok": report.ok,
        "interrupted": report.interrupted,
        "counts": dict(report.counts),
        "failures": [{"item": f.item_id, "error": f.error} for f in report.failures],
        "details": [dict(d) for d in report.details],
        "seconds": round(seconds, 3),
    }


def as_json(report: JobReport, seconds: float) -> str:
    return json.dumps(as_dict(report, seconds), sort_keys=False)


def as_text(report: JobReport, seconds: float) -> list[str]:
    """``FAILED``/``DRIFT`` lines, then the one-line summary."""
    lines = [_detail_line(d) for d in report.details]
    lines += [f"FAILED {f.item_id}: {f.error}" for f in report.failures]
    lines.append(summary(report, seconds))
    return lines


def summary(report: JobReport, seconds: float) -> str:
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts.items() if n)
    state = "; interrupted" if report.interrupted else ""
    return (
        f"{report.job}: {counts or 'nothing to do'}; "
        f"{len(report.failures)} failed{state} ({seconds:.1f} s)"
    )


def _detail_line(detail: Any) -> str:
    repaired = detail.get("repaired")
    tail = f" -> repaired: {repaired}" if repaired else ""
    return f"DRIFT {detail.get('kind')} {detail.get('payment_id')}: {detail.get('detail')}{tail}"
