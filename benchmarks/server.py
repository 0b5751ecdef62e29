"""The real ``creditline serve`` (uvicorn, one process) in a subprocess on 127.0.0.1.

It runs exactly the production entrypoint (``entrypoints.cli`` ``serve --no-migrate``:
JSON logs, uvicorn's defaults) with the Stripe gateway, a dummy secret key and an API
base on a closed local port, so any gateway call would fail loudly instead of leaving
the machine; ``payment_intent.succeeded`` makes none.

``python -m benchmarks.server`` is that subprocess; with ``BENCH_PROFILE=<file>`` it
runs under cProfile and writes the stats at shutdown (SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from adapters.sqlalchemy.engine import PG_POOL_SIZE

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
DUMMY_SECRET_KEY = "sk_test_benchmark_dummy_never_used"
CLOSED_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens, calls fail fast


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _peak_rss_kb(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class AppServer:
    """``async with AppServer(...) as server:`` -> ``server.base_url`` answers /health."""

    def __init__(
        self,
        database_url: str,
        webhook_secret: str,
        log_path: Path,
        profile: Path | None = None,
        *,
        workers: int = 1,
        module: str = "benchmarks.server",
        pool_size: int = PG_POOL_SIZE,
    ) -> None:
        """``workers``: ``serve --workers``; ``module``: what ``python -m`` runs;
        ``pool_size``: ``DATABASE_POOL_SIZE`` of each worker."""
        self.database_url = database_url
        self.webhook_secret = webhook_secret
        self.log_path = log_path
        self.profile = profile
        self.workers = workers
        self.pool_size = pool_size
        self.module = module
        self.base_url = ""
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float | None:
        return _cpu_seconds(self.pid) if self._process else None

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's workers, or the server itself."""
        workers = [pid for pid in _children(self.pid) if b"spawn_main" in _cmdline(pid)]
        return workers or [self.pid]

    def workers_cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) or 0.0 for pid in self.worker_pids())

    def peak_worker_rss_mb(self) -> float:
        return round(max(_peak_rss_kb(pid) for pid in self.worker_pids()) / 1024, 1)

    def log_tail(self) -> str:
        return _tail(self.log_path)

    def _environment(self, port: int) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("STRIPE_", "DATABASE_", "PAYMENT_", "BENCH_"))
        }
        env |= {
            "DATABASE_URL": self.database_url,
            "PAYMENT_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": DUMMY_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_API_BASE": CLOSED_API_BASE,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "APP_ENV": "development",
            "NO_PROXY": "127.0.0.1,localhost",
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "SERVICE_API_KEYS": "bench-service-key-0123456789abcdef",  # benchmarks.debits
            "BENCH_WORKERS": str(self.workers),
            "DATABASE_POOL_SIZE": str(self.pool_size),
        }
        if self.profile is not None:
            env["BENCH_PROFILE"] = str(self.profile)
        return env

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def start(self) -> None:
        last_error = ""
        for _ in range(3):  # the free port may be taken between probe and bind
            port = _free_port()
            self.base_url = f"http://127.0.0.1:{port}"
            log = self.log_path.open("ab")
            try:
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    self.module,
                    cwd=REPO_ROOT,
                    env=self._environment(port),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            finally:
                log.close()
            try:
                await self._wait_until_ready()
                return
            except RuntimeError as exc:
                last_error = str(exc)
                await self.stop()
        raise RuntimeError(f"the app did not start: {last_error}\n{self.log_tail()}")

    async def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise RuntimeError(f"exited with {self._process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/health", timeout=1.0)).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"no answer on {self.base_url}/health in {STARTUP_TIMEOUT_SECONDS} s")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully on SIGTERM
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()


def _serve() -> None:
    from entrypoints.cli import main

    sys.argv = ["creditline", "serve", "--no-migrate"]
    workers = os.environ.pop("BENCH_WORKERS", "1")
    if workers != "1":
        sys.argv += ["--workers", workers]
    profile_path = os.environ.pop("BENCH_PROFILE", None)
    if not profile_path:
        main()
        return
    import cProfile

    # uvicorn re-raises SIGTERM once it has shut down: exit through Python to dump stats.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        main()
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


if __name__ == "__main__":
    _serve()
