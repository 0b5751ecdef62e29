"""The reference for reads: a bare Litestar endpoint returning a constant.

Served exactly as ``creditline serve`` serves the app (uvicorn, the same number of
workers on the same listening socket, no access log, no log config), so a read's ratio
to this is what our own work costs: authentication, the transaction, the query and the response.
``python -m benchmarks.bare_app`` (``HOST``, ``PORT``, ``BENCH_WORKERS``).
"""

from __future__ import annotations

import os

from litestar import Litestar, get


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/constant")
async def constant() -> dict[str, object]:
    return {"user_id": "usr_bench_0", "balance": 1000, "held": 0, "available": 1000}


def create() -> Litestar:
    return Litestar([health, constant], openapi_config=None)


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
