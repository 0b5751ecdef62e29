"""GET /metrics: Prometheus text with the service's counters, latency and gauges; every
request's id in its response and in its log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.logs import configure_logging
from tests.e2e.conftest import (
    ADMIN,
    Api,
    checkout_completed,
    client_of,
    encode,
    event,
    make_app,
    signature,
)

FAMILIES = {
    "creditline_webhook_events",
    "creditline_domain_events",
    "creditline_credit_grants",
    "creditline_credits_granted",
    "creditline_refunds",
    "creditline_refund_credits_reversed",
    "creditline_debits",
    "creditline_credits_debited",
    "creditline_debits_refused",
    "creditline_outbound_deliveries",
    "creditline_http_request_duration_seconds",
    "creditline_db_pool_connections_in_use",
    "creditline_outbox_pending",
    "creditline_outbox_oldest_pending_age_seconds",
}


async def scrape(api: Api) -> str:
    response = await api.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def value(text: str, sample: str, **labels: str) -> float:
    """The sample's value (0 when absent, as Prometheus reads a missing counter)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


async def test_metrics_lists_every_family_in_prometheus_text(api: Api) -> None:
    families = {f.name for f in text_string_to_metric_families(await scrape(api))}
    assert families >= FAMILIES


async def test_the_pool_gauge_reads_connections_in_use(api: Api) -> None:
    text = await scrape(api)
    assert value(text, "creditline_db_pool_connections_in_use") >= 0
    assert "creditline_db_pool_connections_in_use " in text


async def test_a_signed_webhook_counts_its_type_and_outcome(api: Api) -> None:
    _user, ref = await api.new_checkout(1000)
    labels = {"type": "checkout.session.completed", "outcome": "granted"}
    before = value(await scrape(api), "creditline_webhook_events_total", **labels)
    assert await api.deliver(checkout_completed(ref)) == "granted"
    assert await api.deliver(event("customer.created", {"object": "customer"})) == (
        "ignored_unhandled_type"
    )
    assert await api.deliver(event("x" * 300, {"object": "thing"})) == "ignored_unusable"
    bad = await api.post_webhook(encode(checkout_completed(ref)), "t=1,v1=forged")
    assert bad.status_code == 400
    text = await scrape(api)
    assert value(text, "creditline_webhook_events_total", **labels) == before + 1
    other = {"type": "other", "outcome": "ignored_unhandled_type"}
    assert value(text, "creditline_webhook_events_total", **other) >= 1
    unusable = {"type": "other", "outcome": "ignored_unusable"}
    assert value(text, "creditline_webhook_events_total", **unusable) >= 1
    assert value(text, "creditline_webhook_events_total", type="other", outcome="refused") >= 1
    assert "x" * 300 not in text


async def test_a_purchase_counts_the_credits_it_granted(api: Api) -> None:
    before = await scrape(api)
    user = await api.create_user()
    created = await api.checkout(user, 1234)
    await api.pay(created["session_id"])
    assert await api.credits(user) == 1234
    after = await scrape(api)
    for sample, delta in [
        ("creditline_credits_granted_total", 1234),
        ("creditline_credit_grants_total", 1),
    ]:
        grew = value(after, sample, kind="purchase") - value(before, sample, kind="purchase")
        assert grew == delta
    sandbox = {"type": "payment_intent.succeeded", "outcome": "granted"}
    assert value(after, "creditline_webhook_events_total", **sandbox) >= 1


async def test_latency_is_labelled_by_route_template_not_raw_path(api: Api) -> None:
    user = await api.create_user()
    created = await api.checkout(user, 1000)
    await api.payment(user, created["payment_id"])
    text = await scrape(api)
    assert created["payment_id"] not in text
    count = "creditline_http_request_duration_seconds_count"
    route = "/api/stripe/payments/{payment_id}"
    assert value(text, count, route=route, method="GET", status="2xx") >= 1
    assert value(text, count, route="/api/users", method="POST", status="2xx") >= 1


async def test_a_refused_debit_is_counted_by_its_code(empty_pg_url: str) -> None:
    under_test = make_app(empty_pg_url, SERVICE_API_KEYS="service-key-0123456789")
    async with client_of(under_test) as api:
        user = await api.create_user()
        body = {"user_id": user.id, "credits": 5, "idempotency_key": "k-1"}
        headers = {"Authorization": "Bearer service-key-0123456789"}
        response = await api.http.post("/api/credits/debit", json=body, headers=headers)
        assert response.status_code == 402, response.text
        text = await scrape(api)
    refused = value(text, "creditline_debits_refused_total", reason="insufficient_credits")
    assert refused == 1


async def test_a_metrics_token_is_required_when_set(empty_pg_url: str) -> None:
    under_test = make_app(empty_pg_url, METRICS_TOKEN="scrape-token-0123456789")
    async with client_of(under_test) as api:
        assert (await api.http.get("/metrics")).status_code == 401
        assert (await api.http.get("/metrics", headers=ADMIN)).status_code == 401
        good = {"Authorization": "Bearer scrape-token-0123456789"}
        response = await api.http.get("/metrics", headers=good)
        assert response.status_code == 200
        assert "creditline_webhook_events" in response.text


async def test_metrics_can_be_turned_off(empty_pg_url: str) -> None:
    under_test = make_app(empty_pg_url, METRICS_ENABLED="false")
    async with client_of(under_test) as api:
        assert (await api.http.get("/metrics")).status_code == 404


async def test_metrics_are_not_in_the_openapi_schema(api: Api) -> None:
    schema = (await api.http.get("/schema/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The app's JSON log lines, as ``serve`` configures them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    captured = io.StringIO()
    root.handlers[0].setStream(captured)  # type: ignore[attr-defined]
    try:
        yield captured
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


async def test_the_request_id_is_echoed_and_logged(api: Api, log_lines: io.StringIO) -> None:
    _user, ref = await api.new_checkout(1000)
    body = encode(checkout_completed(ref))
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature(body),
        "X-Request-ID": "req-0123456789abcdef",
    }
    response = await api.http.post("/api/stripe/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "req-0123456789abcdef"
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    handled = [line for line in lines if "gateway_event " in line["event"]]
    assert handled and handled[-1]["request_id"] == "req-0123456789abcdef"
    assert ref.payment_id in handled[-1]["event"]


async def test_a_malformed_request_id_is_replaced(api: Api) -> None:
    response = await api.http.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    generated = response.headers["x-request-id"]
    assert generated != "bad id\twith spaces" and len(generated) == 32
    limited = await api.http.get("/user/balance")
    assert limited.status_code == 401 and limited.headers["x-request-id"]


async def test_an_authenticated_users_id_is_logged(api: Api, log_lines: io.StringIO) -> None:
    buyer = await api.create_user()
    created = await api.checkout(buyer, 1000)
    await api.pay(created["session_id"])
    admin = await api.create_user(is_admin=True)
    body = {"payment_id": created["payment_id"]}
    response = await api.http.post("/api/stripe/refund", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    refund_lines = [line for line in lines if created["payment_id"] in line["event"]]
    assert refund_lines
    assert all(line["user_id"] == admin.id for line in refund_lines[-1:])
    assert refund_lines[-1]["request_id"] == response.headers["x-request-id"]
