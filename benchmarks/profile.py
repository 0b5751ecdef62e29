"""Where one worker's CPU goes in each scenario: py-spy, sampled from outside.

``Sampler(server, workdir).sampling(seconds, scenario)`` records one worker (``py-spy record
--format raw``, 200 samples/s, idle frames left out) while the scenario runs; ``top()``
gives the functions with the most samples, on their own (self) and with what they
call (total), as shares of all samples.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from benchmarks.server import AppServer

TOP = 15


class Sampler:
    def __init__(self, server: AppServer, out: Path) -> None:
        self._server = server
        out.mkdir(parents=True, exist_ok=True)
        self._dir = out
        self._files: dict[str, Path] = {}

    @asynccontextmanager
    async def sampling(self, seconds: float, scenario: str) -> AsyncIterator[None]:
        self._files[scenario] = self._dir / f"profile-{scenario}.txt"
        executable = shutil.which("py-spy")
        if executable is None:
            raise RuntimeError("py-spy is missing: uv sync installs it (a dev dependency)")
        process = await asyncio.create_subprocess_exec(
            executable,
            "record",
            "--pid",
            str(self._server.worker_pids()[0]),
            "--rate",
            "200",
            "--duration",
            f"{int(seconds) + 2}",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(self._files[scenario]),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            yield
        finally:
            await asyncio.wait_for(process.wait(), seconds + 30)

    def top(self) -> dict[str, dict[str, Any]]:
        """Each sampled scenario's top functions."""
        return {scenario: _top(path) for scenario, path in self._files.items()}


def _top(path: Path) -> dict[str, Any]:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [_short(f) for f in stack.split(";") if f]
        samples += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    share = lambda c: [(f, round(100 * n / samples, 1)) for f, n in c.most_common(TOP)]  # noqa: E731
    return {"samples": samples, "self_percent": share(own), "total_percent": share(total)}


def _short(frame: str) -> str:
    """``handle (application/webhooks/x.py:12)`` -> ``handle (application/webhooks/x.py)``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/wt-perf/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"
