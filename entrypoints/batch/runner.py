"""Run a batch job once or in a loop, print its report, and choose the exit code.

A job that fails as a whole (database or gateway down) is reported like an item
failure and, in a loop, tried again after the interval: a daemon outlives an outage.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.batch import BatchControl, JobReport
from entrypoints.batch.control import StopFlag, control
from entrypoints.batch.report import EXIT_INTERRUPTED, as_json, as_text, exit_code

log = logging.getLogger(__name__)

Job = Callable[[BatchControl], Awaitable[JobReport]]


@dataclass(frozen=True, slots=True)
class RunOptions:
    name: str
    loop: bool = False
    interval: float = 60.0
    as_json: bool = False

    @property
    def show_progress(self) -> bool:
        return not self.as_json and sys.stdout.isatty()


def run(job: Job, options: RunOptions, close: Callable[[], Awaitable[None]]) -> int:
    """Run to completion (or a signal) on a fresh event loop; returns the exit code."""
    try:
        return asyncio.run(_main(job, options, close))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print(f"{options.name}: aborted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _main(job: Job, options: RunOptions, close: Callable[[], Awaitable[None]]) -> int:
    stop = StopFlag()
    stop.install()
    try:
        while True:
            code = await _once(job, options, stop)
            if not options.loop or stop.requested or await stop.sleep(options.interval):
                return code
    finally:
        stop.uninstall()
        await close()


async def _once(job: Job, options: RunOptions, stop: StopFlag) -> int:
    started = time.monotonic()
    with control(stop, options.name, options.show_progress) as steering:
        try:
            report = await job(steering)
        except Exception as exc:
            log.exception("batch_job_failed job=%s", options.name)
            report = JobReport(options.name)
            report.fail(options.name, exc)
    seconds = time.monotonic() - started
    if options.as_json:
        print(as_json(report, seconds), flush=True)
    else:
        print("\n".join(as_text(report, seconds)), flush=True)
    return exit_code(report)
