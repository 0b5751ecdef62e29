"""wrk on loopback: requests/s and latency percentiles of one bounded run.

Requests are built beforehand (webhook bodies signed, API keys chosen) and written one a
line for ``lua/replay.lua``, so the load generator does no work per request but send.
wrk is Debian's package (``apt-get install wrk``); ``ensure_wrk`` installs it when
missing and says so.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fixtures import BenchmarkFailed

LUA = Path(__file__).with_name("lua") / "replay.lua"
THREADS = 2  # one per core of the reference machine; wrk's threads are event loops
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True, slots=True)
class WrkResult:
    connections: int
    seconds: float
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and non-2xx answers


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    header: str
    value: str
    body: str = ""

    def line(self) -> str:
        if "\n" in self.body or "\t" in self.body:
            raise ValueError("a replayed body must be one line without tabs")
        return "\t".join((self.method, self.path, self.header, self.value, self.body))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package (apt-get install -y wrk)", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchmarkFailed("wrk is not installed and apt-get could not install it")
    return found


def write_requests(path: Path, requests: list[Request]) -> Path:
    path.write_text("".join(r.line() + "\n" for r in requests))
    return path


async def run_wrk(
    base_url: str, requests_file: Path, *, connections: int, seconds: float
) -> WrkResult:
    """One run of ``seconds`` with ``connections`` keep-alive connections (loopback only)."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise BenchmarkFailed(f"wrk runs on loopback only, not {base_url}")
    command = [
        ensure_wrk(),
        f"--threads={THREADS}",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        "--timeout=10s",
        "--latency",
        f"--script={LUA}",
        base_url,
        "--",
        str(requests_file),
        str(THREADS),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), seconds + 30)
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise BenchmarkFailed(f"wrk exited {process.returncode}: {err.decode()[-1000:]}{text}")
    return _parse(text, connections, seconds)


def _parse(text: str, connections: int, seconds: float) -> WrkResult:
    requests = re.search(r"(\d+) requests in", text)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if requests is None or rate is None:
        raise BenchmarkFailed(f"cannot read wrk's output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(g) for g in sockets.groups()) if sockets else 0
    return WrkResult(
        connections=connections,
        seconds=seconds,
        requests=int(requests.group(1)),
        per_second=float(rate.group(1)),
        p50_ms=_percentile(text, "50"),
        p99_ms=_percentile(text, "99"),
        errors=errors,
    )


def _percentile(text: str, q: str) -> float:
    found = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if found is None:
        raise BenchmarkFailed(f"no {q}th percentile in wrk's output:\n{text}")
    return float(found.group(1)) * _UNITS[found.group(2)]
