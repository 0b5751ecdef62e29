"""How a job's report reads for people and machines, and which exit code it gives."""

from __future__ import annotations

import json

from application.batch import JobReport
from entrypoints.batch.report import as_json, as_text, exit_code, summary


def report(**counts: int) -> JobReport:
    made = JobReport("expire-sessions")
    made.counts.update(counts)
    return made


def test_a_clean_run_is_one_line_and_exit_0() -> None:
    clean = report(expired=3, fulfilled=1)
    assert as_text(clean, 1.25) == ["expire-sessions: 3 expired, 1 fulfilled; 0 failed (1.2 s)"]
    assert exit_code(clean) == 0


def test_failures_are_listed_before_the_summary_and_exit_1() -> None:
    failed = report(expired=1)
    failed.fail("pay_1", "gateway_unavailable: Stripe is unavailable")
    lines = as_text(failed, 0.5)
    assert lines[0] == "FAILED pay_1: gateway_unavailable: Stripe is unavailable"
    assert lines[-1] == "expire-sessions: 1 expired; 1 failed (0.5 s)"
    assert exit_code(failed) == 1


def test_an_interrupted_run_says_so_and_exits_130() -> None:
    stopped = report()
    stopped.interrupted = True
    assert summary(stopped, 2.0) == "expire-sessions: nothing to do; 0 failed; interrupted (2.0 s)"
    assert exit_code(stopped) == 130


def test_json_carries_counts_failures_and_drift() -> None:
    found = JobReport("reconcile")
    found.counts.update(events=2, drift_missing_grant=1)
    found.details.append({"kind": "missing_grant", "payment_id": "pay_1", "detail": "x"})
    found.fail("pay_1", "missing_grant: x")
    data = json.loads(as_json(found, 0.1234))
    assert data == {
        "job": "reconcile",
        "ok": False,
        "interrupted": False,
        "counts": {"events": 2, "drift_missing_grant": 1},
        "failures": [{"item": "pay_1", "error": "missing_grant: x"}],
        "details": [{"kind": "missing_grant", "payment_id": "pay_1", "detail": "x"}],
        "seconds": 0.123,
    }
    assert as_text(found, 0.1)[0] == "DRIFT missing_grant pay_1: x"
