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
USER_AGENT = "creditline-webhooks/1"


class HttpxSender:
    """The client is made on the first post and dropped by ``aclose``, so a sender
    outlives a closed event loop (one ``batch --loop`` run after another)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._timeout = httpx.Timeout(timeout)
        self._client: httpx.AsyncClient | None = None

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Posted:
        """The answer's body is never read: only its status counts, and a large one
        would cost the worker for nothing."""
        try:
            async with self._open().stream(
                "POST", self._url, content=body, headers=dict(headers)
            ) as response:
                return Posted(response.status_code)
        except httpx.HTTPError as exc:
            return Posted(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
            )
        return self._client
