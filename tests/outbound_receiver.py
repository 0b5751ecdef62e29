"""A product's webhook endpoint on 127.0.0.1, for outbound delivery tests.

It answers 500 to the first ``fail_first`` posts of each event id (then 200), can take
``delay`` seconds per post, keeps every post byte for byte, and counts overlaps: a post
of an event id that arrives while another post of the same id is still being answered.
``ThreadedReceiver`` runs one on its own loop in a thread, for code that runs its own
loop (the batch CLI).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class Post:
    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class OutboundReceiver:
    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay = delay
        self.posts: list[Post] = []
        self.tries: Counter[str] = Counter()
        self.overlaps = 0
        self._in_flight: set[str] = set()
        app = web.Application()
        app.router.add_post("/hooks", self._receive)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self._server.make_url("/hooks"))

    async def __aenter__(self) -> OutboundReceiver:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    def delivered(self) -> dict[str, Post]:
        """The accepted post of each event id (what a de-duplicating receiver keeps)."""
        return {p.event["id"]: p for p in self.posts if self.tries[p.event["id"]] > self.fail_first}

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.delivered()) < count:
                await asyncio.sleep(0.02)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        event_id = json.loads(body)["id"]
        if event_id in self._in_flight:
            self.overlaps += 1
        self._in_flight.add(event_id)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.posts.append(Post(body, request.headers.get("Creditline-Signature", "")))
            self.tries[event_id] += 1
            return web.Response(status=500 if self.tries[event_id] <= self.fail_first else 204)
        finally:
            self._in_flight.discard(event_id)


@contextmanager
def threaded_receiver(fail_first: int = 0) -> Iterator[OutboundReceiver]:
    """A receiver served from a thread of its own until the block ends."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: list[OutboundReceiver] = []

    async def serve() -> None:
        async with OutboundReceiver(fail_first) as receiver:
            holder.append(receiver)
            started.set()
            await asyncio.Event().wait()

    def run() -> None:
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield holder[0]
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(5)
