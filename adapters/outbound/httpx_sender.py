"""``OutboundSender`` over httpx: one pooled client, a timeout on every post.

No redirects are followed: the signed body goes to the configured URL only. A timeout,
a refused connection or a broken response is an answer like any other (``Posted``
with an error), so the event is tried again later.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from application.outbound.sender import Posted

DEFAULT_TIMEOUT_SECONDS = 10.0


class HttpxSender:
    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": "creditline-webhooks/1", "Content-Type": "application/json"},
        )

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Posted:
        """The answer's body is never read: only its status counts, and a large one
        would cost the worker for nothing."""
        try:
            async with self._client.stream(
                "POST", self._url, content=body, headers=dict(headers)
            ) as response:
                return Posted(response.status_code)
        except httpx.HTTPError as exc:
            return Posted(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    async def aclose(self) -> None:
        await self._client.aclose()
