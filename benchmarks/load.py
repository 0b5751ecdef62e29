"""Signed ``payment_intent.succeeded`` events and the concurrent httpx load generator.

Bodies look like Stripe's (the full PaymentIntent object, indented JSON, about 2 KB)
so JSON decoding and the HMAC cost what they cost in production. They are built and
signed before the clock starts; ``concurrency`` workers, each with its own keep-alive
``httpx.AsyncClient`` on loopback, post them and time every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from adapters.stripe.signatures import sign_payload
from benchmarks.fixtures import AMOUNT, CURRENCY, event_id, intent_id, owner, payment_id

WEBHOOK_PATH = "/api/stripe/webhook"
REQUEST_TIMEOUT_SECONDS = 30.0
API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    expect: str  # the outcome the app must answer

    def signed(self, secret: str, timestamp: int) -> tuple[bytes, str]:
        return self.body, sign_payload(self.body, secret, timestamp)


def succeeded_event(group: str, i: int, user_count: int, created: int) -> bytes:
    """A ``payment_intent.succeeded`` event as Stripe delivers it."""
    intent = {
        "id": intent_id(group, i),
        "object": "payment_intent",
        "amount": AMOUNT,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": AMOUNT,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id(group, i)}_secret_bEnChMaRkSeCrEt",
        "confirmation_method": "automatic",
        "created": created - 30,
        "currency": CURRENCY,
        "customer": None,
        "description": "1000 credits",
        "last_payment_error": None,
        "latest_charge": f"ch_{group}_{i}",
        "livemode": False,
        "metadata": {"payment_id": payment_id(group, i), "user_id": owner(group, i, user_count)},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": f"pm_{group}_{i}",
        "payment_method_configuration_details": {"id": "pmc_benchmark", "parent": None},
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            },
            "link": {"persistent_token": None},
        },
        "payment_method_types": ["card", "link"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    event = {
        "id": event_id(group, i),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": intent},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{group}_{i}", "idempotency_key": f"idem_{group}_{i}"},
        "type": "payment_intent.succeeded",
    }
    return json.dumps(event, indent=2).encode()


def deliveries(group: str, indices: Sequence[int], user_count: int, expect: str) -> list[Delivery]:
    created = int(time.time())
    return [Delivery(succeeded_event(group, i, user_count, created), expect) for i in indices]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, completion order
    elapsed: float = 0.0
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    client_cpu: float = 0.0
    server_cpu: float | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    count: int
    elapsed_s: float
    per_second: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_event: float | None = None
    client_cpu_ms_per_event: float | None = None


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(
    latencies_s: Sequence[float],
    elapsed_s: float,
    server_cpu_s: float | None = None,
    client_cpu_s: float | None = None,
) -> Stats:
    ordered = sorted(x * 1000 for x in latencies_s)
    n = len(ordered)

    def per_event(cpu_s: float | None) -> float | None:
        return None if cpu_s is None or not n else 1000 * cpu_s / n

    return Stats(
        count=n,
        elapsed_s=elapsed_s,
        per_second=n / elapsed_s if elapsed_s > 0 else math.nan,
        mean_ms=sum(ordered) / n if n else math.nan,
        p50_ms=percentile(ordered, 0.50),
        p90_ms=percentile(ordered, 0.90),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else math.nan,
        server_cpu_ms_per_event=per_event(server_cpu_s),
        client_cpu_ms_per_event=per_event(client_cpu_s),
    )


async def post_all(
    base_url: str,
    items: Sequence[Delivery],
    *,
    secret: str,
    concurrency: int,
    deadline_s: float,
    server_cpu: Callable[[], float | None] = lambda: None,
    advance: Callable[[int], None] = lambda _: None,
) -> LoadResult:
    """Post every delivery once with ``concurrency`` workers; all within ``deadline_s``."""
    timestamp = int(time.time())
    signed = [(*item.signed(secret, timestamp), item.expect) for item in items]
    pending = iter(signed)
    result = LoadResult()

    async def worker(client: httpx.AsyncClient) -> None:
        for body, signature, expect in pending:  # shared iterator: one taker per item
            headers = {"content-type": "application/json", "stripe-signature": signature}
            started = time.perf_counter()
            try:
                response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
            except httpx.HTTPError as exc:
                _fail(result, f"{type(exc).__name__}: {exc}")
                continue
            result.latencies.append(time.perf_counter() - started)
            outcome = _outcome(response)
            if response.status_code != 200 or outcome != expect:
                _fail(result, f"HTTP {response.status_code} {response.text[:200]!r}")
            advance(1)

    async with contextlib.AsyncExitStack() as stack:
        # Clients are made before the clock starts (each builds an SSL context).
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    trust_env=False,
                )
            )
            for _ in range(max(1, min(concurrency, len(items))))
        ]
        cpu_before, server_before = _own_cpu(), server_cpu()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(deadline_s):
                await asyncio.gather(*(worker(client) for client in clients))
        except TimeoutError:
            _fail(result, f"not finished within {deadline_s:g} s")
        result.elapsed = time.perf_counter() - started
        result.client_cpu = _own_cpu() - cpu_before
        server_after = server_cpu()
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    return result


def _outcome(response: httpx.Response) -> str | None:
    try:
        value = response.json().get("outcome")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _fail(result: LoadResult, message: str) -> None:
    result.failed += 1
    if len(result.failures) < 10:
        result.failures.append(message)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
