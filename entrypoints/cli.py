"""The ``creditline`` command: serve, db upgrade, users create, ledger verify, batch."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import cyclopts
from dotenv import load_dotenv

from adapters.sqlalchemy.migrate import upgrade_sync
from domain.ledger_checks import LedgerMismatch
from entrypoints import verify_report
from entrypoints.batch.commands import batch_app
from entrypoints.container import Container, build_container
from entrypoints.logs import configure_logging
from entrypoints.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from litestar import Litestar

app = cyclopts.App(name="creditline", help="Prepaid credits sold through Stripe, kept in a ledger.")
db = cyclopts.App(name="db", help="Database schema.")
users = cyclopts.App(name="users", help="Users and API keys.")
ledger = cyclopts.App(name="ledger", help="Ledger checks.")
app.command(db)
app.command(users)
app.command(ledger)


def _settings() -> Settings:
    load_dotenv()
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"creditline: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _container() -> Container:
    return build_container(_settings())


app.command(batch_app(_container))


@app.command
def serve(*, migrate: bool = True, workers: int = 1) -> None:
    """Apply migrations (unless --no-migrate) and serve the HTTP API.

    --workers N: N processes share the port (uvicorn's workers), each with its own
    connection pool; one per core is what the benchmark recommends.
    """
    import uvicorn

    from entrypoints.http.app import create_app
    from entrypoints.serving import serve_workers

    settings = _settings()
    configure_logging()
    if migrate:
        upgrade_sync(settings.database_url)
    print(
        f"creditline: {settings.payment_gateway} gateway, API docs at {settings.public_url}/docs; "
        "create a user with: .venv/bin/creditline users create --email you@example.com",
        file=sys.stderr,
    )
    # No access log: each request's outcome is already logged by the use case.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
    }
    if workers > 1:
        serve_workers("entrypoints.cli:worker_app", workers, **options)
        return
    uvicorn.run(create_app(build_container(settings)), **options)


def worker_app() -> Litestar:
    """One worker's app (``serve --workers``): each process reads the settings itself."""
    from entrypoints.http.app import create_app

    configure_logging()
    return create_app(_container())


@db.command(name="upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade_sync(_settings().database_url, revision)
    print("creditline: database is up to date")


@users.command(name="create")
def users_create(*, email: str, admin: bool = False) -> None:
    """Create a user and print its API key (shown once)."""
    container = _container()

    async def run() -> None:
        try:
            created = await container.use_cases.create_user()(email, is_admin=admin)
        finally:
            await container.engine().dispose()
        print(
            json.dumps(
                {
                    "user_id": created.user.id,
                    "email": created.user.email,
                    "api_key": created.api_key,
                    "referral_code": created.user.referral_code,
                    "is_admin": created.user.is_admin,
                }
            )
        )

    asyncio.run(run())


@ledger.command(name="verify")
def ledger_verify(*, as_json: Annotated[bool, cyclopts.Parameter(name="--json")] = False) -> None:
    """Check every cached balance against the sum of its entries, and every account's
    lots against its balance; exit 1 on a mismatch."""
    container = _container()

    async def run() -> list[LedgerMismatch]:
        try:
            return await container.use_cases.verify_ledger()()
        finally:
            await container.engine().dispose()

    found = asyncio.run(run())
    if as_json:
        print(json.dumps(verify_report.as_json(found)))
    else:
        print("\n".join(verify_report.as_lines(found)))
    if found:
        raise SystemExit(1)


def main() -> None:
    app()
