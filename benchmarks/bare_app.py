"""The references served over HTTP: a bare endpoint, and the least a service could do.

Served exactly as ``creditline serve`` serves the app (uvicorn, the same number of
workers on the same listening socket, no access log, no log config), so a ratio to
these is what our own work costs.

- ``/constant``: a bare Litestar endpoint returning a constant, no I/O at all: the
  ceiling of the HTTP stack on this machine.
- ``/minimal/balance``, ``/minimal/history``, ``/minimal/webhook``: hand-written Litestar
  + msgspec handlers on a raw asyncpg pool doing the same I/O as the service's routes
  and nothing else. A read trusts a key it checked for ``KEY_TRUST_SECONDS`` as the
  service does, then runs one statement (the balance with its spent-since sum; the
  first page of history). A webhook checks the ``Stripe-Signature`` (HMAC-SHA256 over
  ``t.body``, five minutes' tolerance), decodes the event and runs the four statements
  of ``sql/four_statements.sql`` in one transaction: claim the event, complete the
  payment, move the balance, append the entry. No logging, metrics, outbox, alerts,
  referrals, domain objects or error mapping: the gap between the service and these is
  what all of that, SQLAlchemy and our layers cost; the gap between these and
  ``/constant`` or pgbench is one round trip (or six) from Python on this machine.

``python -m benchmarks.bare_app`` (``HOST``, ``PORT``, ``BENCH_WORKERS``; ``DATABASE_URL``
and ``STRIPE_WEBHOOK_SECRET`` for the minimal handlers).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from cachetools import TTLCache
from litestar import Litestar, Request, Response, get, post

from domain.alerts import RUNWAY_WINDOW_DAYS
from domain.ledger import SPENT_KINDS
from entrypoints.http.auth import KEY_TRUST_SECONDS

TOLERANCE_SECONDS = 300
PAGE = 20

KEY_OWNER = (
    "SELECT k.user_id FROM api_keys k JOIN users u ON u.id = k.user_id "
    "WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
)
BALANCE = (
    "SELECT a.user_id, a.balance, a.held, (SELECT coalesce(sum(-e.credits), 0) "
    "FROM ledger_entries e WHERE e.user_id = a.user_id AND e.kind = ANY($2::text[]) "
    "AND e.created_at >= $3) AS spent FROM accounts a WHERE a.user_id = $1"
)
HISTORY = (
    "SELECT id, credits, kind, reference_type, reference_id, balance_after, created_at, "
    "expires_at FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
)
CLAIM = (
    "INSERT INTO processed_events (event_id, type, received_at, livemode, outcome) "
    "VALUES ($1, $2, now(), $3, 'granted') ON CONFLICT (event_id) DO NOTHING RETURNING 1"
)
COMPLETE = (
    "UPDATE payments SET status = 'completed', completed_at = now(), updated_at = now() "
    "WHERE id = $1 AND status = 'pending' AND amount = $2 RETURNING user_id, credits"
)
MOVE = (
    "UPDATE accounts SET balance = balance + $2, updated_at = now() "
    "WHERE user_id = $1 RETURNING balance"
)
APPEND = (
    "INSERT INTO ledger_entries (user_id, credits, kind, reference_type, reference_id, "
    "idempotency_key, balance_after, created_at, lot_remaining) "
    "VALUES ($1, $2, 'purchase', 'payment', $3, $4, $5, now(), $2)"
)
IGNORED = "UPDATE processed_events SET outcome = 'ignored' WHERE event_id = $1"
_SPENT = sorted(kind.value for kind in SPENT_KINDS)


class Metadata(msgspec.Struct):
    payment_id: str = ""


class Intent(msgspec.Struct):
    id: str
    amount: int
    metadata: Metadata


class Data(msgspec.Struct):
    object: Intent


class Event(msgspec.Struct):
    id: str
    type: str
    livemode: bool
    data: Data


_decode_event = msgspec.json.Decoder(Event).decode
_pool: asyncpg.Pool | None = None
_owners: TTLCache[str, str] = TTLCache(100_000, KEY_TRUST_SECONDS)


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/constant")
async def constant() -> dict[str, object]:
    return {"user_id": "usr_bench_0", "balance": 1000, "held": 0, "available": 1000}


def _answer(status: int, body: object) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


async def _owner(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    owner = _owners.get(digest)
    if owner is None:
        owner = await conn.fetchval(KEY_OWNER, digest)
        if owner is not None:
            _owners[digest] = owner
    return owner


async def _read(
    request: Request[Any, Any, Any], statement: str, *args: object
) -> tuple[str, list[asyncpg.Record]] | None:
    """The caller's user and the rows of ``statement`` (user first, then ``args``); None
    for an unknown key."""
    assert _pool is not None
    async with _pool.acquire() as conn:
        user = await _owner(request, conn)
        return None if user is None else (user, await conn.fetch(statement, user, *args))


@get("/minimal/balance")
async def minimal_balance(request: Request[Any, Any, Any]) -> Response[bytes]:
    since = datetime.now(UTC) - timedelta(days=RUNWAY_WINDOW_DAYS)
    found = await _read(request, BALANCE, _SPENT, since)
    if found is None:
        return _answer(401, {"code": "unauthenticated"})
    user, rows = found
    if not rows:
        return _answer(200, {"user_id": user, "balance": 0, "held": 0, "available": 0})
    row = rows[0]
    available = row["balance"] - row["held"]
    spent = row["spent"]
    runway = round(available * RUNWAY_WINDOW_DAYS / spent, 1) if spent else None
    body = {"user_id": user, "balance": row["balance"], "held": row["held"]}
    return _answer(200, body | {"available": available, "runway_days": runway})


@get("/minimal/history")
async def minimal_history(request: Request[Any, Any, Any]) -> Response[bytes]:
    found = await _read(request, HISTORY, PAGE + 1)
    if found is None:
        return _answer(401, {"code": "unauthenticated"})
    _, rows = found
    items = [dict(row) for row in rows[:PAGE]]
    cursor = str(items[-1]["id"]) if len(rows) > PAGE else None
    return _answer(200, {"items": items, "next_cursor": cursor})


def _signed(body: bytes, header: str, secret: str) -> bool:
    timestamp, signatures = "", []
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, "sha256").hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


@post("/minimal/webhook", status_code=200)
async def minimal_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    assert _pool is not None
    body = await request.body()
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    if not _signed(body, request.headers.get("stripe-signature", ""), secret):
        return _answer(400, {"code": "invalid_signature"})
    try:
        event = _decode_event(body)
    except msgspec.DecodeError:
        return _answer(400, {"code": "invalid_payload"})
    intent = event.data.object
    async with _pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(CLAIM, event.id, event.type, event.livemode) is None:
            return _answer(200, {"received": True, "outcome": "duplicate"})
        paid = await conn.fetchrow(COMPLETE, intent.metadata.payment_id, intent.amount)
        if paid is None:
            await conn.execute(IGNORED, event.id)
            return _answer(200, {"received": True, "outcome": "ignored"})
        user, credits = paid["user_id"], paid["credits"]
        balance = await conn.fetchval(MOVE, user, credits)
        payment = intent.metadata.payment_id
        await conn.execute(APPEND, user, credits, payment, f"purchase:{payment}", balance)
    return _answer(200, {"received": True, "outcome": "granted"})


@asynccontextmanager
async def _database(_: Litestar) -> AsyncIterator[None]:
    """One asyncpg pool per worker, as large as the service's, when a database is given."""
    global _pool
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield
        return
    size = int(os.environ.get("DATABASE_POOL_SIZE", "20"))
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    _pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=size, server_settings={"jit": "off"}
    )
    try:
        yield
    finally:
        await _pool.close()
        _pool = None


def create() -> Litestar:
    handlers = [health, constant, minimal_balance, minimal_history, minimal_webhook]
    return Litestar(handlers, openapi_config=None, lifespan=[_database])


def main() -> None:
    import uvicorn

    from entrypoints.serving import serve_workers

    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    options: dict[str, object] = {
        "host": os.environ.get("HOST", "127.0.0.1"),
        "port": int(os.environ["PORT"]),
        "log_config": None,
        "access_log": False,
    }
    if workers > 1:  # as ``serve --workers``: the same listening socket
        serve_workers("benchmarks.bare_app:create", workers, **options)
        return
    uvicorn.run(create(), **options)


if __name__ == "__main__":
    main()
