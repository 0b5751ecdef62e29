"""Stripe's HTTP conventions, shared by the fake Stripe server and the localstripe runner.

Form bodies are decoded the way Stripe reads them (``a[b][0][c]=v``), errors have
Stripe's JSON shape, and idempotency keys replay the first result as Stripe documents.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def decode_form(body: str) -> dict[str, Any]:
    """``line_items[0][price_data][currency]=usd`` -> nested dicts and lists."""
    tree: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head = key.split("[", 1)[0]
        path = [head, *_KEY_PART.findall(key[len(head) :])]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _lists(tree)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def stripe_error(
    status: int, message: str, error_type: str = "invalid_request_error", **extra: str
) -> web.Response:
    return web.json_response(
        {"error": {"type": error_type, "message": message, **extra}}, status=status
    )


@dataclass
class IdempotencyCache:
    """Replays a POST's first result for a repeated ``Idempotency-Key``, like Stripe.

    The same key with different parameters is refused with an ``idempotency_error``.
    Only executed requests are kept (successes and card declines): a retry after a
    validation error or a 5xx runs again.
    """

    results: dict[tuple[str, str], tuple[str, int, bytes]] = field(default_factory=dict)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or request.path.startswith("/_"):
            return await handler(request)
        scope = (request.headers.get("Authorization", ""), key)
        fingerprint = hashlib.sha256(await request.read()).hexdigest()
        if scope in self.results:
            seen, status, body = self.results[scope]
            if seen != fingerprint:
                return stripe_error(
                    400,
                    "Keys for idempotent requests can only be used with the same "
                    "parameters they were first used with.",
                    "idempotency_error",
                )
            return web.Response(
                body=body,
                status=status,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        response = await handler(request)
        executed = response.status < 400 or response.status == 402
        if isinstance(response, web.Response) and executed:
            self.results[scope] = (fingerprint, response.status, bytes(response.body or b""))
        return response
