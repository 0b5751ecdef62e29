"""One sandbox for every process on a database: two replicas, and a restart.

Each app below is built as ``creditline serve`` builds it (its own container, engine
and sandbox gateway) on one shared database, SQLite and PostgreSQL. A checkout opened
through one must be payable, expirable and visible through the other, and survive the
first being thrown away.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sandbox.gateway import SandboxGateway
from application.purchases.gateway import CheckoutRequest
from domain.errors import GatewayRejected
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from tests.e2e.conftest import SUCCEEDS, AppUnderTest, client_of, make_app


def replicas(db_url: str) -> tuple[AppUnderTest, AppUnderTest]:
    return make_app(db_url), make_app(db_url)


async def test_a_checkout_opened_on_one_replica_is_paid_and_expired_on_another(
    db_url: str,
) -> None:
    one, two = replicas(db_url)
    async with client_of(one) as first, client_of(two) as second:
        user = await first.create_user()
        paid = await first.checkout(user, 1000)
        unpaid = await first.checkout(user, 2000)

        page = await second.http.get(f"/sandbox/checkout/{paid['session_id']}")
        outcome = await second.pay(paid["session_id"])
        expired = await second.http.post(
            f"/sandbox/checkout/{unpaid['session_id']}/expire", json={"deliver": "now"}
        )

        assert page.status_code == 200 and "Checkout not found" not in page.text
        assert outcome["status"] == "succeeded"
        assert expired.status_code == 200 and expired.json()["status"] == "expired"
        assert await first.credits(user) == 1000
        assert (await first.payment(user, unpaid["payment_id"]))["status"] == "expired"
        again = await first.http.post(
            f"/sandbox/checkout/{paid['session_id']}/pay", json={"card_number": SUCCEEDS}
        )
        assert again.json()["error"]["code"] == "checkout_session_complete"


async def test_an_open_checkout_survives_a_restart(db_url: str) -> None:
    before = make_app(db_url)
    async with client_of(before) as api:
        user = await api.create_user()
        created = await api.checkout(user, 1000)
    await before.container.engine().dispose()

    after = make_app(db_url)  # the server came back: a new process, a new sandbox gateway
    async with client_of(after) as api:
        outcome = await api.pay(created["session_id"])
        assert outcome["status"] == "succeeded"
        assert await api.credits(user) == 1000


async def test_the_events_list_for_reconciliation_is_shared(db_url: str) -> None:
    one, two = replicas(db_url)
    async with client_of(one) as first, client_of(two) as second:
        user = await first.create_user()
        created = await first.checkout(user, 1000)
        await first.pay(created["session_id"], deliver="never")

        events = await second.sandbox.event_payloads()

        assert [e["type"] for e in events] == [
            "payment_intent.succeeded",
            "checkout.session.completed",
        ]


def sandbox_of(url: str) -> tuple[Container, SandboxGateway]:
    """A replica's container and sandbox, used directly on this test's event loop."""
    container = build_container(Settings(database_url=url, stripe_webhook_secrets=("whsec_r",)))
    gateway = container.gateway()
    assert isinstance(gateway, SandboxGateway)
    return container, gateway


@pytest.mark.postgres
async def test_two_replicas_paying_one_session_at_once_take_it_once(empty_pg_url: str) -> None:
    (one, first), (two, second) = sandbox_of(empty_pg_url), sandbox_of(empty_pg_url)
    request = CheckoutRequest(
        "pay_1", "usr_1", 1000, "usd", 1000, "1000 credits", "https://app.test/ok",
        "https://app.test/cancel", datetime.now(UTC) + timedelta(hours=1), "checkout:pay_1",
    )  # fmt: skip
    created = await first.create_checkout(request)
    assert await second.create_checkout(request) == created  # the key replays on the other

    results = await asyncio.gather(
        first.pay_checkout(created.session_id, SUCCEEDS, "never"),
        second.pay_checkout(created.session_id, SUCCEEDS, "never"),
        return_exceptions=True,
    )

    answers = sorted(r.code if isinstance(r, GatewayRejected) else r.status for r in results)
    assert answers == ["checkout_session_complete", "succeeded"]
    kinds = [e["type"] for e in await second.event_payloads()]
    assert kinds.count("payment_intent.succeeded") == 1
    for container in (one, two):
        await container.engine().dispose()
