"""``creditline batch``: the commands over the real container (SQLite, sandbox gateway).

The container is the one the HTTP app uses, with only its clock fixed so that
sessions can outlive their ``expires_at``. Payments are made at the container's own
sandbox with ``deliver: "never"``: the payment happens, its webhooks are lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from dependency_injector import providers
from sqlalchemy import delete

from adapters.clock import FixedClock
from adapters.sandbox.gateway import SandboxGateway
from adapters.sqlalchemy.tables import sandbox_objects
from application.accounts.users import create_user
from application.purchases.create_checkout_session import (
    CheckoutSettings,
    CreateCheckoutSession,
    create_checkout_session,
)
from application.purchases.orders import Order
from domain.ledger import purchase_posting
from domain.payment import Payment, PaymentStatus
from domain.redirects import RedirectPolicy
from entrypoints.batch import commands
from entrypoints.batch.commands import batch_app, parse_since
from entrypoints.cli import app as creditline
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings

T0 = datetime.now(UTC).replace(microsecond=0)
T = TypeVar("T")


@dataclass
class Cli:
    container: Container
    clock: FixedClock
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exited:
            batch_app(lambda: self.container)(list(args))
        code = exited.value.code
        return (code if isinstance(code, int) else 1), self.capsys.readouterr().out

    def json(self, *args: str) -> tuple[int, dict[str, object]]:
        code, out = self(*args, "--json")
        return code, json.loads(out)

    @property
    def sandbox(self) -> SandboxGateway:
        gateway = self.container.gateway()
        assert isinstance(gateway, SandboxGateway)
        return gateway

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run setup on its own loop, leaving no pooled connection behind for the CLI's."""

        async def go() -> T:
            try:
                return await coroutine
            finally:
                await self.container.engine().dispose()

        return asyncio.run(go())

    def open_checkout(self, amount: int = 1000) -> Payment:
        uow_factory, settings = self.container.uow_factory(), self.container.settings()

        async def go() -> Payment:
            user = await create_user(
                f"u{datetime.now(UTC).timestamp()}@example.com",
                uow_factory=uow_factory,
                clock=self.clock,
            )
            created = await create_checkout_session(
                CreateCheckoutSession(Order(user.user.id, amount, "usd", None, None, None)),
                uow_factory=uow_factory,
                gateway=self.sandbox,
                clock=self.clock,
                settings=CheckoutSettings(
                    settings.pricing, RedirectPolicy(settings.frontend_url), timedelta(hours=1)
                ),
            )
            return await self.payment(created.payment_id)

        return self.run(go())

    async def forget_at_sandbox(self, session_id: str) -> None:
        """The gateway does not know the session (its state was wiped, or another's)."""
        async with self.container.engine().begin() as connection:
            await connection.execute(
                delete(sandbox_objects).where(sandbox_objects.c.id == session_id)
            )

    async def payment(self, payment_id: str) -> Payment:
        async with self.container.uow_factory()() as uow:
            found = await uow.payments.get(payment_id)
        assert found is not None
        return found

    def balance(self, user_id: str) -> int:
        async def go() -> int:
            async with self.container.uow_factory()() as uow:
                account = await uow.ledger.account(user_id)
            return 0 if account is None else account.balance

        return self.run(go())


@pytest.fixture
def cli(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    monkeypatch.setattr(commands, "configure_logging", lambda level: None)
    container = build_container(
        Settings(database_url=sqlite_url, stripe_webhook_secrets=("whsec_cli_test",))
    )
    clock = FixedClock(T0)
    container.clock.override(providers.Object(clock))
    yield Cli(container, clock, capsys)
    container.clock.reset_override()


def paid_with_lost_webhooks(cli: Cli) -> Payment:
    payment = cli.open_checkout(1000)
    assert payment.stripe_session_id is not None
    cli.run(cli.sandbox.pay_checkout(payment.stripe_session_id, "4242424242424242", "never"))
    cli.clock.advance(timedelta(hours=2))
    return payment


def test_expire_sessions_recovers_a_payment_whose_webhooks_were_lost(cli: Cli) -> None:
    payment = paid_with_lost_webhooks(cli)
    unpaid = cli.open_checkout(2000)
    cli.clock.advance(timedelta(hours=2))

    code, report = cli.json("expire-sessions")

    assert code == 0
    assert report["ok"] is True and report["counts"] == {"fulfilled": 1, "expired": 1}
    assert cli.balance(payment.user_id) == 1000
    assert cli.run(cli.payment(unpaid.id)).status is PaymentStatus.EXPIRED


def test_reconcile_recovers_it_too_and_a_second_run_is_a_noop(cli: Cli) -> None:
    payment = paid_with_lost_webhooks(cli)

    first_code, first = cli.json("reconcile", "--since", "72h")
    second_code, second = cli("reconcile")

    assert (first_code, second_code) == (0, 0)
    assert first["counts"] == {"events": 2, "granted": 1, "no_change": 1}
    assert cli.balance(payment.user_id) == 1000
    assert (
        second.strip()
        .splitlines()[-1]
        .startswith("reconcile: 2 events, 2 already processed; 0 failed (")
    )


def test_items_that_fail_are_listed_and_exit_1(cli: Cli) -> None:
    payment = cli.open_checkout()
    assert payment.stripe_session_id is not None
    cli.run(cli.forget_at_sandbox(payment.stripe_session_id))
    cli.clock.advance(timedelta(hours=2))

    code, out = cli("expire-sessions")
    json_code, report = cli.json("expire-sessions")

    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"FAILED {payment.id}: not_found: ")
    assert lines[-1].startswith("expire-sessions: nothing to do; 1 failed (")
    assert json_code == 0 and report["counts"] == {}  # leased: retried after the lease


@pytest.mark.parametrize(
    "args",
    [
        ["expire-sessions", "--interval", "5"],
        ["expire-sessions", "--batch-size", "0"],
        ["reconcile", "--since", "31d"],
        ["reconcile", "--since", "yesterday"],
        ["expire-credits", "--bogus"],
        ["expire-holds", "--batch-size", "0"],
    ],
)
def test_bad_usage_exits_2(cli: Cli, args: list[str]) -> None:
    code, _ = cli(*args)
    assert code == 2


def test_since_accepts_seconds_to_days() -> None:
    assert [parse_since(s) for s in ("90s", "30m", "72h", "30d")] == [
        timedelta(seconds=90),
        timedelta(minutes=30),
        timedelta(hours=72),
        timedelta(days=30),
    ]


def test_a_loop_runs_until_ctrl_c_and_then_exits_with_the_last_result(cli: Cli) -> None:
    timer = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, out = cli("expire-credits", "--loop", "--interval", "0.1", "--json")
    finally:
        timer.cancel()

    runs = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0
    assert len(runs) >= 2 and all(run["ok"] for run in runs)


def test_the_creditline_command_has_the_batch_jobs(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through ``entrypoints.cli``: settings from the environment, the real container."""
    monkeypatch.setattr(commands, "configure_logging", lambda level: None)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PAYMENT_GATEWAY", "sandbox")
    with pytest.raises(SystemExit) as exited:
        creditline(["batch", "expire-sessions", "--json"])
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out)["job"] == "expire-sessions"


def test_expire_holds_frees_holds_past_their_expiry_once(cli: Cli) -> None:
    payment = cli.open_checkout(1000)
    use_cases = cli.container.use_cases

    async def fund_and_hold() -> str:
        async with cli.container.uow_factory()() as uow:
            await uow.ledger.post(purchase_posting(payment.user_id, payment.id, 1000), T0)
            await uow.commit()
        hold = await use_cases.place_hold()(payment.user_id, 400, "h1", 60)
        return hold.id

    cli.run(fund_and_hold())
    code, report = cli.json("expire-holds")
    assert (code, report["counts"]) == (0, {})
    cli.clock.advance(timedelta(seconds=61))
    code, report = cli.json("expire-holds")
    assert (code, report["counts"]) == (0, {"holds_expired": 1, "credits_released": 400})
    code, report = cli.json("expire-holds")
    assert (code, report["counts"]) == (0, {})
