"""The whole application over HTTP, with Stripe-shaped, correctly signed webhooks.

- ``make_app(database_url, **env)``: the app exactly as ``creditline serve`` builds it
  (settings from an environment dict, the container, ``create_app``): sandbox gateway,
  ``ADMIN_API_KEYS``, two webhook secrets (the current one and a rotated one), known
  public and frontend URLs.
- ``pg_app`` / ``sqlite_app``: that app on the session's migrated PostgreSQL database,
  emptied before the test (``empty_pg_url``), or on a SQLite file of the test's own;
  ``any_app`` is parametrised over both. ``shared_pg_app``: one app per module, for
  modules whose tests only look at their own users (they override ``pg_app``).
- ``api`` / ``any_api``: an ``Api`` over a Litestar ``AsyncTestClient``, which runs one
  request at a time. ``served_api`` runs ``pg_app`` under uvicorn on 127.0.0.1 (see
  ``serve``) for truly concurrent requests, each in its own database transaction.
- ``Api``: users created with the admin key, purchases, reads, and ``post_event`` /
  ``post_webhook``, which sign a raw body and post it to the webhook.
- ``PaymentRef`` and the event builders (``checkout_completed``, ``intent_succeeded``,
  ``charge_refunded``, ...): Stripe-shaped events about one of our payments.
- ``Database`` (``pg_db``): reads of what the API does not show (processed events).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url

from adapters.sandbox.gateway import SandboxGateway
from adapters.sqlalchemy.engine import make_engine
from adapters.stripe.client import PINNED_API_VERSION
from adapters.stripe.signatures import sign_payload
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings

ADMIN_KEY = "e2e-admin-key-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
WEBHOOK_SECRET = "whsec_e2e_current_secret"
ROTATED_WEBHOOK_SECRET = "whsec_e2e_previous_secret"
PUBLIC_URL = "http://testserver.local"
FRONTEND_URL = "https://app.example.com"
SUCCEEDS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 9995"
SERVER_START_SECONDS = 10.0


# ---- the app ---------------------------------------------------------------------------


@dataclass
class AppUnderTest:
    app: Litestar
    container: Container
    database_url: str


def make_app(database_url: str, **env: str) -> AppUnderTest:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "ADMIN_API_KEYS": ADMIN_KEY,
            "STRIPE_WEBHOOK_SECRET": f"{WEBHOOK_SECRET},{ROTATED_WEBHOOK_SECRET}",
            "PUBLIC_URL": PUBLIC_URL,
            "FRONTEND_URL": FRONTEND_URL,
            **env,
        }
    )
    container = build_container(settings)
    return AppUnderTest(create_app(container), container, database_url)


@pytest.fixture
def pg_app(empty_pg_url: str) -> AppUnderTest:
    return make_app(empty_pg_url)


def unreachable_database_url(database_url: str, how: str) -> str:
    """``database_url`` made unusable: ``missing_database`` or ``server_stopped``."""
    url = make_url(database_url)
    if how == "missing_database":
        url = url.set(database=f"creditline_missing_{uuid.uuid4().hex[:8]}")
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = int(sock.getsockname()[1])
        url = url.set(host="127.0.0.1", port=closed_port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def shared_pg_app(pg_url: str) -> AppUnderTest:
    """One app for a whole module, on the session's database, never emptied.

    Faster for modules whose tests each create their own users and read only what
    those users see; such a module overrides ``pg_app`` with it.
    """
    return make_app(pg_url)


@pytest.fixture
def sqlite_app(sqlite_url: str) -> AppUnderTest:
    return make_app(sqlite_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request: pytest.FixtureRequest) -> AppUnderTest:
    fixture = "sqlite_app" if request.param == "sqlite" else "pg_app"
    app: AppUnderTest = request.getfixturevalue(fixture)
    return app


@asynccontextmanager
async def client_of(under_test: AppUnderTest) -> AsyncIterator[Api]:
    """An ``Api`` over Litestar's test client (lifespan included, one request at a time)."""
    async with AsyncTestClient(under_test.app, base_url=PUBLIC_URL) as client:
        yield Api(client, under_test)


@contextmanager
def serve(app: Litestar) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free 127.0.0.1 port in a thread; yields its base URL.

    The server has its own event loop, so requests from the test's loop are served
    concurrently, as a real deployment would serve Stripe's parallel deliveries.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, loop="asyncio", lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_START_SECONDS)
        sock.close()


@asynccontextmanager
async def served(under_test: AppUnderTest) -> AsyncIterator[Api]:
    with serve(under_test.app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
            yield Api(http, under_test)


@pytest.fixture
async def api(pg_app: AppUnderTest) -> AsyncIterator[Api]:
    async with client_of(pg_app) as api:
        yield api


@pytest.fixture
async def any_api(any_app: AppUnderTest) -> AsyncIterator[Api]:
    async with client_of(any_app) as api:
        yield api


@pytest.fixture
async def served_api(pg_app: AppUnderTest) -> AsyncIterator[Api]:
    async with served(pg_app) as api:
        yield api


# ---- Stripe-shaped events --------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRef:
    """What an event needs to know about one of our payments."""

    payment_id: str
    user_id: str
    amount: int
    currency: str
    session_id: str | None
    intent_id: str | None

    @classmethod
    def of(cls, payment: Mapping[str, Any]) -> PaymentRef:
        return cls(
            payment["id"],
            payment["user_id"],
            payment["amount"],
            payment["currency"],
            payment["stripe_session_id"],
            payment["stripe_payment_intent_id"],
        )

    @property
    def metadata(self) -> dict[str, str]:
        return {"payment_id": self.payment_id, "user_id": self.user_id}


def new_event_id() -> str:
    return f"evt_e2e_{uuid.uuid4().hex[:24]}"


def event(
    event_type: str, obj: Mapping[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or new_event_id(),
        "object": "event",
        "api_version": PINNED_API_VERSION,
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": dict(obj)},
    }


def session_object(
    p: PaymentRef, *, status: str = "complete", paid: bool = True, amount: int | None = None
) -> dict[str, Any]:
    return {
        "id": p.session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": status,
        "payment_status": "paid" if paid else "unpaid",
        "amount_total": p.amount if amount is None else amount,
        "currency": p.currency,
        "payment_intent": p.intent_id,
        "metadata": p.metadata,
        "livemode": False,
    }


def intent_object(
    p: PaymentRef,
    *,
    status: str,
    amount_received: int = 0,
    currency: str | None = None,
    error: Mapping[str, str] | None = None,
    cancellation_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": p.intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": p.amount,
        "amount_received": amount_received,
        "currency": currency or p.currency,
        "metadata": p.metadata,
        "last_payment_error": dict(error) if error else None,
        "cancellation_reason": cancellation_reason,
        "livemode": False,
    }


def checkout_completed(p: PaymentRef, *, paid: bool = True, amount: int | None = None) -> dict:
    return event("checkout.session.completed", session_object(p, paid=paid, amount=amount))


def async_payment_succeeded(p: PaymentRef) -> dict[str, Any]:
    return event("checkout.session.async_payment_succeeded", session_object(p))


def async_payment_failed(p: PaymentRef) -> dict[str, Any]:
    return event("checkout.session.async_payment_failed", session_object(p, paid=False))


def checkout_expired(p: PaymentRef) -> dict[str, Any]:
    return event("checkout.session.expired", session_object(p, status="expired", paid=False))


def intent_succeeded(
    p: PaymentRef, *, amount: int | None = None, currency: str | None = None
) -> dict[str, Any]:
    received = p.amount if amount is None else amount
    obj = intent_object(p, status="succeeded", amount_received=received, currency=currency)
    return event("payment_intent.succeeded", obj)


def intent_failed(p: PaymentRef, *, decline_code: str = "insufficient_funds") -> dict[str, Any]:
    error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code}
    obj = intent_object(p, status="requires_payment_method", error=error)
    return event("payment_intent.payment_failed", obj)


def intent_canceled(p: PaymentRef, *, reason: str = "abandoned") -> dict[str, Any]:
    obj = intent_object(p, status="canceled", cancellation_reason=reason)
    return event("payment_intent.canceled", obj)


def charge_refunded(p: PaymentRef, refunds: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """``refunds``: every (refund id, amount) of the charge so far, oldest first."""
    data = [
        {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": p.currency,
            "payment_intent": p.intent_id,
            "status": "succeeded",
        }
        for refund_id, amount in reversed(refunds)
    ]
    refunded = sum(amount for _, amount in refunds)
    charge = {
        "id": f"ch_{p.payment_id}",
        "object": "charge",
        "amount": p.amount,
        "amount_refunded": refunded,
        "refunded": refunded >= p.amount,
        "currency": p.currency,
        "payment_intent": p.intent_id,
        "metadata": p.metadata,
        "refunds": {"object": "list", "data": data, "has_more": False},
    }
    return event("charge.refunded", charge)


def encode(evt: Mapping[str, Any]) -> bytes:
    return msgspec.json.encode(evt)


def signature(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return sign_payload(body, secret, int(time.time()) if timestamp is None else timestamp)


# ---- the HTTP API ----------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


class Api:
    """The calls a client, an admin, the sandbox's customer and Stripe make."""

    def __init__(self, http: httpx.AsyncClient, under_test: AppUnderTest) -> None:
        self.http = http
        self.under_test = under_test

    @property
    def sandbox(self) -> SandboxGateway:
        gateway = self.under_test.container.gateway()
        assert isinstance(gateway, SandboxGateway)
        return gateway

    async def create_user(self, email: str | None = None, *, is_admin: bool = False) -> User:
        email = email or f"u-{uuid.uuid4().hex[:12]}@example.com"
        response = await self.http.post(
            "/api/users", json={"email": email, "is_admin": is_admin}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return User(body["user_id"], body["email"], body["api_key"])

    async def checkout(self, user: User, amount: int | None = 1000, **fields: Any) -> dict:
        """A Checkout Session for ``amount`` US cents (``None``: give ``package_id``)."""
        body = {**_price(amount), **fields}
        response = await self.http.post(
            "/api/stripe/checkout-session", json=body, headers=user.headers
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def payment_intent(self, user: User, amount: int | None = 1000, **fields: Any) -> dict:
        body = {**_price(amount), **fields}
        response = await self.http.post(
            "/api/stripe/payment-intent", json=body, headers=user.headers
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def pay(self, session_id: str, card: str = SUCCEEDS, deliver: str = "now") -> dict:
        body = {"card_number": card, "deliver": deliver}
        response = await self.http.post(f"/sandbox/checkout/{session_id}/pay", json=body)
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()
        return outcome

    async def confirm(self, intent_id: str, card: str = SUCCEEDS, deliver: str = "now") -> dict:
        body = {"card_number": card, "deliver": deliver}
        url = f"/sandbox/payment-intents/{intent_id}/confirm"
        response = await self.http.post(url, json=body)
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()
        return outcome

    async def payment(self, user: User, payment_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/stripe/payments/{payment_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        payment: dict[str, Any] = response.json()
        return payment

    async def payment_ref(self, user: User, payment_id: str) -> PaymentRef:
        return PaymentRef.of(await self.payment(user, payment_id))

    async def new_checkout(self, amount: int = 1000) -> tuple[User, PaymentRef]:
        """A new user with one pending Checkout payment."""
        user = await self.create_user()
        created = await self.checkout(user, amount)
        return user, await self.payment_ref(user, created["payment_id"])

    async def balance(self, user: User) -> dict[str, Any]:
        response = await self.http.get("/user/balance", headers=user.headers)
        assert response.status_code == 200, response.text
        balance: dict[str, Any] = response.json()
        return balance

    async def credits(self, user: User) -> int:
        credits: int = (await self.balance(user))["credits"]
        return credits

    async def transactions(self, user: User) -> list[dict[str, Any]]:
        response = await self.http.get(
            "/user/credit-transactions", params={"limit": 100}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["transactions"]
        return entries

    async def refund(self, payment_id: str, amount: int | None = None) -> httpx.Response:
        body: dict[str, Any] = {"payment_id": payment_id}
        if amount is not None:
            body["amount"] = amount
        return await self.http.post("/api/stripe/refund", json=body, headers=ADMIN)

    async def post_webhook(self, body: bytes, stripe_signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if stripe_signature is not None:
            headers["Stripe-Signature"] = stripe_signature
        return await self.http.post("/api/stripe/webhook", content=body, headers=headers)

    async def post_event(
        self,
        evt: Mapping[str, Any],
        *,
        secret: str = WEBHOOK_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        body = encode(evt)
        return await self.post_webhook(body, signature(body, secret, timestamp))

    async def deliver(self, evt: Mapping[str, Any]) -> str:
        """Post ``evt`` as Stripe would; it must be accepted. Returns its outcome."""
        response = await self.post_event(evt)
        assert response.status_code == 200, response.text
        outcome: str = response.json()["outcome"]
        return outcome


def _price(amount: int | None) -> dict[str, Any]:
    return {} if amount is None else {"amount": amount, "currency": "usd"}


# ---- the database, for what the API does not show ---------------------------------------


class Database:
    def __init__(self, url: str) -> None:
        self.url = url

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = make_engine(self.url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql), params)
                return [dict(row) for row in result.mappings()] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def outcomes(self) -> dict[str, str | None]:
        """Every processed event id and its recorded outcome."""
        rows = await self.rows("SELECT event_id, outcome FROM processed_events")
        return {row["event_id"]: row["outcome"] for row in rows}


@pytest.fixture
def pg_db(pg_app: AppUnderTest) -> Database:
    return Database(pg_app.database_url)
