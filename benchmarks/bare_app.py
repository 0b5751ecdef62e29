"""The reference for reads: a bare Litestar endpoint returning a constant.

Served exactly as ``creditline serve`` serves the app (uvicorn, the same number of
workers, no access log, no log config), so a read's ratio to this is what our own work
costs: authentication, the transaction, the query and the response.
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

    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    uvicorn.run(
        "benchmarks.bare_app:create",
        factory=True,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        workers=workers,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
