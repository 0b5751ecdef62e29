"""``creditline batch <job>``: the jobs that make the ledger converge to the gateway.

Built over the same container as the HTTP app (``batch_app(container_factory)``): each
job is the container's use case, bound to the database, gateway and clock the service
uses. Each command runs once (cron, a Kubernetes CronJob) or with ``--loop --interval
SECONDS``.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, NoReturn

import cyclopts
from cyclopts import Parameter, validators

from application.batch import BatchControl, JobReport
from application.outbound.deliver_events import DeliveryPolicy
from application.reconciliation.expire_stale_sessions import SweepPolicy
from application.reconciliation.reconcile import ReconcilePolicy
from entrypoints.batch.report import EXIT_USAGE
from entrypoints.batch.runner import RunOptions, run
from entrypoints.container import Container
from entrypoints.logs import configure_logging

DEFAULT_INTERVAL = 60.0
MAX_SINCE = timedelta(days=30)  # Stripe keeps events for 30 days
_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

Positive = Parameter(validator=validators.Number(gt=0))
JobFactory = Callable[[Container, BatchControl], Awaitable[JobReport]]


@Parameter(name="*")
@dataclass(frozen=True)
class Common:
    loop: bool = False
    "Run again and again, --interval seconds apart, until SIGINT/SIGTERM."
    interval: Annotated[float | None, Positive] = None
    "Seconds between two runs with --loop (default 60)."
    as_json: Annotated[bool, Parameter(name="--json")] = False
    "Print one JSON object per run instead of the summary line."


def parse_since(text: str) -> timedelta:
    """``72h``, ``30m``, ``7d``, ``90s``: at most 30 days."""
    match = _SINCE.match(text.strip())
    if match is None:
        raise ValueError(f"--since must look like 72h, 30m or 7d, not '{text}'")
    window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not timedelta(0) < window <= MAX_SINCE:
        raise ValueError("--since must be more than 0 and at most 30d (what Stripe keeps)")
    return window


def _check_since(_: Any, value: str) -> None:
    parse_since(value)


def batch_app(container_factory: Callable[[], Container]) -> cyclopts.App:
    app = cyclopts.App(name="batch", help="Jobs that make the ledger converge to the gateway.")

    def launch(
        name: str, common: Common, job: JobFactory, default_interval: float = DEFAULT_INTERVAL
    ) -> None:
        if common.interval is not None and not common.loop:
            _usage(name, "--interval needs --loop")
        interval = default_interval if common.interval is None else common.interval
        options = RunOptions(name, common.loop, interval, common.as_json)
        configure_logging("WARNING" if options.show_progress else "INFO")
        container = container_factory()

        steer = functools.partial(job, container)
        raise SystemExit(run(steer, options, lambda: _close(container)))

    @app.command(name="expire-sessions")
    def expire_sessions(
        *,
        batch_size: Annotated[int, Positive] = 100,
        concurrency: Annotated[int, Positive] = 4,
        common: Common = Common(),
    ) -> None:
        """Settle open payments past their time: fulfil the paid, expire the rest.

        Parameters
        ----------
        batch_size
            Payments leased per claim (one short transaction).
        concurrency
            Payments settled at once within a batch (gateway calls in flight).
        """

        def job(c: Container, control: BatchControl) -> Awaitable[JobReport]:
            ttl = timedelta(hours=c.settings().payment_intent_ttl_hours)
            policy = SweepPolicy(intent_ttl=ttl, batch_size=batch_size, concurrency=concurrency)
            return c.use_cases.expire_stale_sessions()(policy=policy, control=control)

        launch("expire-sessions", common, job)

    @app.command(name="reconcile")
    def reconcile_command(
        *,
        since: Annotated[str, Parameter(validator=_check_since)] = "72h",
        repair: bool = False,
        batch_size: Annotated[int, Positive] = 100,
        common: Common = Common(),
    ) -> None:
        """Replay the gateway's events for the window, then report (and --repair) drift.

        Parameters
        ----------
        since
            The window, back from now: 90s, 30m, 72h, 7d (at most 30d).
        repair
            Fix the drift the exactly-once paths can fix (missing grants and refund
            reversals) and say what was done; the rest is only reported.
        batch_size
            Events replayed between two checks for Ctrl-C.
        """
        policy = ReconcilePolicy(since=parse_since(since), repair=repair, batch_size=batch_size)

        def job(c: Container, control: BatchControl) -> Awaitable[JobReport]:
            return c.use_cases.reconcile()(policy=policy, control=control)

        launch("reconcile", common, job)

    @app.command(name="expire-credits")
    def expire_credits_command(
        *, batch_size: Annotated[int, Positive] = 100, common: Common = Common()
    ) -> None:
        """Expire the unspent part of grants past their expiry; idempotent.

        Parameters
        ----------
        batch_size
            Expired lots read per transaction (each transaction expires one user's).
        """

        def job(c: Container, control: BatchControl) -> Awaitable[JobReport]:
            return c.use_cases.expire_credits()(batch_size=batch_size, control=control)

        launch("expire-credits", common, job)

    @app.command(name="expire-holds")
    def expire_holds_command(
        *, batch_size: Annotated[int, Positive] = 100, common: Common = Common()
    ) -> None:
        """Release holds past their expiry, so that they stop holding credits; idempotent.

        Parameters
        ----------
        batch_size
            Expired holds claimed per transaction (each transaction ends one user's).
        """

        def job(c: Container, control: BatchControl) -> Awaitable[JobReport]:
            return c.use_cases.expire_holds()(batch_size=batch_size, control=control)

        launch("expire-holds", common, job)

    @app.command(name="deliver-events")
    def deliver_events_command(
        *,
        batch_size: Annotated[int, Positive] = 100,
        concurrency: Annotated[int, Positive] = 8,
        common: Common = Common(),
    ) -> None:
        """Post the outbox's due events to OUTBOUND_WEBHOOK_URL, signed; a failed post is
        tried again later (backoff with jitter, for three days), then given up.

        Parameters
        ----------
        batch_size
            Events leased per claim (one short transaction).
        concurrency
            Posts in flight at once within a batch.
        """
        settings = container_factory().settings()
        if not settings.outbound.enabled:
            _usage("deliver-events", "OUTBOUND_WEBHOOK_URL is not set")
        policy = DeliveryPolicy(batch_size=batch_size, concurrency=concurrency)

        def job(c: Container, control: BatchControl) -> Awaitable[JobReport]:
            return c.use_cases.deliver_events()(policy=policy, control=control)

        launch("deliver-events", common, job, float(settings.outbound.interval_seconds))

    return app


def _usage(name: str, problem: str) -> NoReturn:
    print(f"creditline batch {name}: {problem}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


async def _close(container: Container) -> None:
    gateway = container.gateway()
    aclose = getattr(gateway, "aclose", None)
    if aclose is not None:
        await aclose()
    if container.settings().outbound.enabled:
        await container.outbound_sender().aclose()
    await container.engine().dispose()
