"""Auto top-up charges in the background of ``serve``: ``batch auto-top-up``, in the
loop of ``outbound_worker.BackgroundDelivery`` (stopped with the app, leases kept).

Started by the app's lifespan unless ``AUTO_TOP_UP_IN_SERVE`` is false (then only
``batch auto-top-up`` charges), every ``AUTO_TOP_UP_INTERVAL`` seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from application.auto_top_up.run import JOB
from application.batch import BatchControl, JobReport


def background_top_ups(
    run: Callable[..., Awaitable[JobReport]],
) -> Callable[..., Awaitable[JobReport]]:
    """The job with the signature the loop calls (its delivery policy ignored).

    The first pass only waits: a replica starting up leaves its database pool to its
    first requests, and requested top-ups wait at most one interval more.
    """
    started = False

    async def job(*, policy: Any, control: BatchControl) -> JobReport:
        nonlocal started
        if not started:
            started = True
            return JobReport(JOB)
        return await run(control=control)

    return job
