"""What is read at scrape time: the connection pool and the outbox backlog.

``exposition()`` reads them, then renders every metric in Prometheus' text format.
The backlog query is bounded (pending rows counted up to ``BACKLOG_CAP``, the oldest
found on the pending rows' partial index); if the database does not answer, the
backlog gauges are left out and the rest is still served. With several worker
processes (``PROMETHEUS_MULTIPROC_DIR`` set), counters are summed over the workers'
files, while the pool gauge is that of the worker that answered the scrape.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics.prometheus import PrometheusMetrics
from adapters.sqlalchemy.tables import outbox

log = logging.getLogger(__name__)

BACKLOG_CAP = 100_000
PENDING = outbox.c.status == "pending"


class _ReadNow(Collector):
    """Gauges whose values the scrape just read."""

    def __init__(self, gauges: list[GaugeMetricFamily]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        yield from self._gauges


def _pool_gauge(engine: AsyncEngine) -> GaugeMetricFamily | None:
    checked_out = getattr(engine.sync_engine.pool, "checkedout", None)
    if checked_out is None:
        return None
    gauge = GaugeMetricFamily(
        "creditline_db_pool_connections_in_use", "Database connections checked out of the pool"
    )
    gauge.add_metric([], float(checked_out()))
    return gauge


async def _backlog_gauges(engine: AsyncEngine, now: datetime) -> list[GaugeMetricFamily]:
    capped = select(outbox.c.event_id).where(PENDING).limit(BACKLOG_CAP).subquery()
    async with engine.connect() as conn:
        pending = (await conn.execute(select(func.count()).select_from(capped))).scalar_one()
        oldest = (
            await conn.execute(select(func.min(outbox.c.occurred_at)).where(PENDING))
        ).scalar()
    count = GaugeMetricFamily(
        "creditline_outbox_pending",
        f"Outbox events not yet delivered (counted up to {BACKLOG_CAP})",
    )
    count.add_metric([], float(pending))
    age = GaugeMetricFamily(
        "creditline_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered outbox event"
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
    return [count, age]


async def exposition(metrics: PrometheusMetrics, engine: AsyncEngine, now: datetime) -> bytes:
    gauges = [g for g in [_pool_gauge(engine)] if g is not None]
    try:
        gauges += await _backlog_gauges(engine, now)
    except Exception:
        log.warning("metrics_backlog_unavailable", exc_info=True)
    registry = metrics.registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    read_now = _ReadNow(gauges)
    registry.register(read_now)
    try:
        return generate_latest(registry)
    finally:
        registry.unregister(read_now)
