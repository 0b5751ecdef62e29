"""Auto top-up charges in the background of ``serve``: ``batch auto-top-up``, in the
loop of ``outbound_worker.BackgroundDelivery`` (stopped with the app, leases kept)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from application.batch import BatchControl, JobReport

TOP_UP_INTERVAL_SECONDS = 15.0


def background_top_ups(
    run: Callable[..., Awaitable[JobReport]],
) -> Callable[..., Awaitable[JobReport]]:
    """The job with the signature the loop calls (its delivery policy ignored)."""

    async def job(*, policy: Any, control: BatchControl) -> JobReport:
        return await run(control=control)

    return job
