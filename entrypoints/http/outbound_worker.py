"""Outbound delivery in the background of ``serve``: the ``deliver-events`` use case, in a loop.

Started by the app's lifespan when ``OUTBOUND_WEBHOOK_URL`` is set and
``OUTBOUND_DELIVERY_IN_SERVE`` is not false. On shutdown it finishes the batch in
hand (each batch settles its own attempts), or is cancelled after ``grace`` seconds;
a cancelled batch's leases run out and its events are posted again later, which
at-least-once delivery allows. Several processes may run it at once: the leases keep
them from posting one event at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from application.batch import BatchControl, JobReport
from application.outbound.deliver_events import DeliveryPolicy

log = logging.getLogger(__name__)

Deliver = Callable[..., Awaitable[JobReport]]
DEFAULT_GRACE_SECONDS = 15.0


class _Steering:
    """``BatchControl`` that only listens for the shutdown."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop

    def begin(self, total: int | None) -> None:
        return None

    def advance(self, items: int) -> None:
        return None

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()


class BackgroundDelivery:
    def __init__(
        self,
        deliver: Deliver,
        interval: float,
        policy: DeliveryPolicy | None = None,
        grace: float = DEFAULT_GRACE_SECONDS,
        observe: Callable[[Mapping[str, int]], None] | None = None,
    ) -> None:
        """``observe`` is given each run's counts (delivered, retry_scheduled, given_up)."""
        self._deliver = deliver
        self._observe = observe
        self._interval = interval
        self._policy = policy or DeliveryPolicy()
        self._grace = grace
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(_Steering(self._stop)))

    async def stop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self._grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, control: BatchControl) -> None:
        while not self._stop.is_set():
            try:
                report = await self._deliver(policy=self._policy, control=control)
            except Exception:
                log.exception("outbound_delivery_failed")
            else:
                if report.counts:
                    log.info("outbound_delivery %s", dict(report.counts))
                    if self._observe is not None:
                        self._observe(report.counts)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
