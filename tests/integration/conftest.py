"""Stripe-compatible servers for the integration tests, all on 127.0.0.1.

- ``localstripe_url`` (session): one localstripe process (PaymentIntents, refunds,
  events, signed webhooks), see ``localstripe_app`` for what it is taught.
- ``localstripe_gateway``: a ``StripeGateway`` on it; ``localstripe_client``: a raw
  ``StripeClient`` on it, for what a customer's browser does (attach a card, confirm).
- ``localstripe_webhook``: ``await register(url, secret, events)`` makes localstripe
  sign and post events to ``url`` (a ``webhook_receiver``, or the app itself).
- ``webhook_receiver``: records raw webhook deliveries.
- ``fake_stripe``: Checkout Sessions, which localstripe lacks, answered in-process
  and recorded.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import stripe

from adapters.stripe.client import StripeGateway
from tests.integration.fake_stripe import FakeStripe
from tests.integration.webhook_receiver import WebhookReceiver

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALSTRIPE_SECRET_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_test"
STARTUP_TIMEOUT_SECONDS = 20.0

RegisterWebhook = Callable[[str, str, Sequence[str] | None], Awaitable[None]]


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a localstripe started for this test session, stopped at its end."""
    log = tmp_path_factory.mktemp("localstripe") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.localstripe_app"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        url = f"http://127.0.0.1:{_read_port(process, log)}"
        _wait_until_answering(url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_port(process: subprocess.Popen[bytes], log: Path) -> int:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
    line = process.stdout.readline() if ready else b""
    if not line.strip().isdigit():
        raise RuntimeError(f"localstripe did not start:\n{log.read_text()}")
    return int(line)


def _wait_until_answering(url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    headers = {"Authorization": f"Bearer {LOCALSTRIPE_SECRET_KEY}"}
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/events?limit=1", headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"localstripe is not answering at {url}:\n{log.read_text()}")


@pytest.fixture
async def localstripe_gateway(localstripe_url: str) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(LOCALSTRIPE_SECRET_KEY, [WEBHOOK_SECRET], api_base=localstripe_url)
    yield gateway
    await gateway.aclose()


@pytest.fixture
async def localstripe_client(localstripe_url: str) -> AsyncIterator[stripe.StripeClient]:
    """A raw client for what a customer's browser would do (attach a card, confirm)."""
    http = stripe.HTTPXClient()
    yield stripe.StripeClient(
        LOCALSTRIPE_SECRET_KEY, base_addresses={"api": localstripe_url}, http_client=http
    )
    await http.close_async()


@pytest.fixture
async def localstripe_webhook(localstripe_url: str) -> AsyncIterator[RegisterWebhook]:
    """``await register(url, secret, events)``: localstripe signs and posts events to url.

    localstripe cannot forget an endpoint, so at teardown it is left subscribed to no
    event type.
    """
    name = f"creditline-{uuid.uuid4().hex}"
    endpoint = f"{localstripe_url}/_config/webhooks/{name}"
    registered: list[str] = []

    async def register(url: str, secret: str, events: Sequence[str] | None = None) -> None:
        body = {"url": url, "secret": secret, "events": None if events is None else list(events)}
        async with httpx.AsyncClient() as http:
            (await http.post(endpoint, json=body)).raise_for_status()
        registered.append(url)

    yield register
    if registered:
        async with httpx.AsyncClient() as http:
            silenced = {"url": registered[-1], "secret": "unused", "events": []}
            (await http.post(endpoint, json=silenced)).raise_for_status()


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.close()


@pytest.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    server = FakeStripe()
    await server.start()
    yield server
    await server.close()
