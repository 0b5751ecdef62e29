"""An HTTP endpoint on 127.0.0.1 that keeps every webhook delivery as it arrived.

The raw body and ``Stripe-Signature`` header are kept byte for byte, because the
signature is computed over exactly those bytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str | None

    @property
    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class WebhookReceiver:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/webhook", self._receive)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self._server.make_url("/webhook"))

    async def start(self) -> None:
        await self._server.start_server()

    async def close(self) -> None:
        await self._server.close()

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> Delivery:
        """The first delivery whose decoded event satisfies ``match``."""
        async with asyncio.timeout(timeout), self._arrived:
            while True:
                for delivery in self.deliveries:
                    if match(delivery.event):
                        return delivery
                await self._arrived.wait()

    async def _receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(await request.read(), request.headers.get("Stripe-Signature"))
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        return web.Response(status=200)
