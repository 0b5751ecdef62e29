"""``creditline batch deliver-events`` over the real container (SQLite), posting to a
receiver on 127.0.0.1: its summary, its JSON and its exit codes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.events import TrialStarted
from entrypoints.batch import commands
from entrypoints.batch.commands import batch_app
from entrypoints.container import Container, build_container
from entrypoints.settings import OutboundSettings, Settings
from tests.outbound_receiver import OutboundReceiver, threaded_receiver

SECRET = "whsec_cli_outbound_0123456789"


def container_for(sqlite_url: str, url: str | None) -> Container:
    outbound = OutboundSettings(url=url, secrets=(SECRET,) if url else ())
    settings = Settings(database_url=sqlite_url, stripe_webhook_secrets=("whsec_cli",))
    return build_container(dataclasses.replace(settings, outbound=outbound))


def run(container: Container, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        batch_app(lambda: container)(list(args))
    code = exited.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().out


def record_trials(container: Container, count: int) -> None:
    async def go() -> None:
        async with container.uow_factory()() as uow:
            for i in range(count):
                now = datetime.now(UTC)
                uow.record(
                    TrialStarted(user_id=f"u{i}", occurred_at=now, credits=10, expires_at=now)
                )
            await uow.commit()
        await container.engine().dispose()

    asyncio.run(go())


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "configure_logging", lambda level: None)


@pytest.fixture
def receiver_failing_once() -> Iterator[OutboundReceiver]:
    with threaded_receiver(fail_first=1) as receiver:
        yield receiver


def test_failed_posts_exit_1_and_are_listed_then_a_later_run_delivers_them(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], receiver_failing_once: OutboundReceiver
) -> None:
    container = container_for(sqlite_url, receiver_failing_once.url)
    record_trials(container, 3)

    code, out = run(container, capsys, "deliver-events")
    waiting_code, waiting = run(container, capsys, "deliver-events", "--json")

    lines = out.strip().splitlines()
    assert code == 1
    assert len(lines) == 4 and all(line.startswith("FAILED evt_") for line in lines[:3])
    assert "the endpoint answered 500; next attempt at " in lines[0]
    assert lines[-1].startswith("deliver-events: 3 retry scheduled; 3 failed (")
    assert waiting_code == 0 and json.loads(waiting)["counts"] == {}  # not due yet

    async def make_due() -> None:
        from sqlalchemy import text

        async with container.engine().begin() as conn:
            await conn.execute(text("UPDATE outbox SET next_attempt_at = NULL"))
        await container.engine().dispose()

    asyncio.run(make_due())
    code, report = run(container, capsys, "deliver-events", "--json")

    assert code == 0 and json.loads(report)["counts"] == {"delivered": 3}
    assert len(receiver_failing_once.delivered()) == 3


def test_without_a_url_it_is_a_usage_error(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    container = container_for(sqlite_url, None)
    with pytest.raises(SystemExit) as exited:
        batch_app(lambda: container)(["deliver-events"])

    assert exited.value.code == 2
    assert "OUTBOUND_WEBHOOK_URL is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["deliver-events", "--interval", "5"],
        ["deliver-events", "--batch-size", "0"],
        ["deliver-events", "--concurrency", "-1"],
    ],
)
def test_bad_usage_exits_2(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _ = run(container_for(sqlite_url, "http://127.0.0.1:9/hooks"), capsys, *args)

    assert code == 2


def test_an_unreachable_endpoint_is_a_failed_attempt_not_a_crash(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    container = container_for(sqlite_url, "http://127.0.0.1:9/hooks")
    record_trials(container, 1)

    code, out = run(container, capsys, "deliver-events", "--json")

    report = json.loads(out)
    assert code == 1 and report["counts"] == {"retry_scheduled": 1}
    assert report["failures"][0]["error"].startswith("ConnectError")
