"""Prometheus counters of what the service did, each counted once it happened.

Domain counters come from the events a unit of work published, told after its commit
(``MessageBus.after_commit``): rolled-back work is never counted. Webhook outcomes come
from the webhook use case's observer, refused debits and outbound deliveries from the
entrypoints that see them, request latency from the HTTP middleware.

Every metric lives in this object's own registry, so that several apps in one
process (the tests) do not collide. Label values are bounded: gateway event types
outside ``known_types`` count as ``other``, status codes as their class (``2xx``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from domain.events import CreditsDebited, CreditsGranted, DomainEvent, RefundApplied

OTHER = "other"
MAX_TYPE_LENGTH = 100
# What the delivery job's report calls each result, and what the metric calls it.
DELIVERY_RESULTS = {"delivered": "delivered", "retry_scheduled": "retry", "given_up": "given_up"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PrometheusMetrics:
    def __init__(self, known_types: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._known_types = frozenset(t for t in known_types if len(t) <= MAX_TYPE_LENGTH)
        r = self.registry
        self.webhook_events = Counter(
            "creditline_webhook_events",
            "Gateway webhook deliveries by event type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.domain_events = Counter(
            "creditline_domain_events", "Committed domain events by type", ["type"], registry=r
        )
        self.grants = Counter(
            "creditline_credit_grants",
            "Credit grants committed, by entry kind",
            ["kind"],
            registry=r,
        )
        self.granted_credits = Counter(
            "creditline_credits_granted", "Credits granted, by entry kind", ["kind"], registry=r
        )
        self.refunds = Counter("creditline_refunds", "Refunds applied to the ledger", registry=r)
        self.refund_credits = Counter(
            "creditline_refund_credits_reversed", "Credits taken back by refunds", registry=r
        )
        self.debits = Counter(
            "creditline_debits", "Debits committed, by entry kind", ["kind"], registry=r
        )
        self.debited_credits = Counter(
            "creditline_credits_debited", "Credits debited, by entry kind", ["kind"], registry=r
        )
        self.debits_refused = Counter(
            "creditline_debits_refused", "Debits refused, by error code", ["reason"], registry=r
        )
        self.deliveries = Counter(
            "creditline_outbound_deliveries",
            "Outbound event delivery attempts, by result",
            ["result"],
            registry=r,
        )
        self.request_latency = Histogram(
            "creditline_http_request_duration_seconds",
            "HTTP request latency by route template, method and status class",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def webhook_handled(self, event_type: str | None, outcome: str) -> None:
        known = event_type if event_type in self._known_types else OTHER
        self.webhook_events.labels(known, outcome).inc()

    def events_committed(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            self.domain_events.labels(event.type).inc()
            if isinstance(event, CreditsGranted):
                self.grants.labels(event.kind.value).inc()
                self.granted_credits.labels(event.kind.value).inc(event.credits)
            elif isinstance(event, CreditsDebited):
                self.debits.labels(event.kind.value).inc()
                self.debited_credits.labels(event.kind.value).inc(event.credits)
            elif isinstance(event, RefundApplied):
                self.refunds.inc()
                self.refund_credits.inc(event.credits_reversed)

    def debit_refused(self, reason: str) -> None:
        self.debits_refused.labels(reason).inc()

    def deliveries_settled(self, counts: Mapping[str, int]) -> None:
        for key, result in DELIVERY_RESULTS.items():
            if counts.get(key):
                self.deliveries.labels(result).inc(counts[key])

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        self.request_latency.labels(route, method, f"{status // 100}xx").observe(seconds)
