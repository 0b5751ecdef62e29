"""Subscriptions over HTTP for the end-to-end tests: plans in a config file, the
client's calls, and the sandbox's renew, retry, fail-next-renewal and invoice refund.

A test module imports the fixtures ``subs_fixture`` and ``subs_app_fixture``; they are
requested as ``subs`` and ``subs_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import uow_factory
from application.ports import UnitOfWorkFactory
from tests.e2e.conftest import (
    SUCCEEDS,
    Api,
    AppUnderTest,
    User,
    client_of,
    encode,
    make_app,
    signature,
)

PLANS_TOML = """
[[plans]]
id = "basic"
name = "Basic"
price_id = "price_basic"
amount = 1000
currency = "usd"
interval = "month"
credits_per_period = 1000

[[plans]]
id = "plus"
name = "Plus"
price_id = "price_plus"
amount = 2000
currency = "usd"
interval = "month"
credits_per_period = 2500
rollover_cap = 500

[[plans]]
id = "pro"
name = "Pro"
price_id = "price_pro"
amount = 4000
currency = "usd"
interval = "month"
credits_per_period = 6000
"""


@pytest.fixture(name="subs_app")
def subs_app_fixture(empty_pg_url: str, tmp_path: Path) -> AppUnderTest:
    config = tmp_path / "plans.toml"
    config.write_text(PLANS_TOML, encoding="utf-8")
    return make_app(empty_pg_url, CREDITLINE_CONFIG=str(config))


@pytest.fixture(name="subs")
async def subs_fixture(subs_app: AppUnderTest) -> AsyncIterator[Subs]:
    async with client_of(subs_app) as api:
        yield Subs(api)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Subs:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.http: httpx.AsyncClient = api.http

    def uow_factory(self) -> UnitOfWorkFactory:
        return uow_factory(make_engine(self.api.under_test.database_url))

    async def subscribe(self, user: User, plan_id: str, card: str = SUCCEEDS) -> dict[str, Any]:
        """Checkout for ``plan_id``, paid at the sandbox; returns the subscription."""
        opened = await self.checkout(user, plan_id)
        assert opened.status_code == 200, opened.text
        paid = await self.api.pay(opened.json()["session_id"], card)
        assert paid["status"] == "succeeded", paid
        return await self.subscription(user)

    async def checkout(self, user: User, plan_id: str, **headers: str) -> httpx.Response:
        return await self.http.post(
            "/api/stripe/subscription-checkout",
            json={"plan_id": plan_id},
            headers={**user.headers, **headers},
        )

    async def subscription(self, user: User) -> dict[str, Any]:
        response = await self.http.get("/api/stripe/subscription", headers=user.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def post(
        self, user: User, action: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            f"/api/stripe/subscription/{action}",
            json=body,
            headers={**user.headers, **headers},
        )

    async def sandbox(self, path: str, body: Any = None) -> dict[str, Any]:
        response = await self.http.post(f"/sandbox/{path}", json=body)
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()
        return outcome

    async def renew(self, subscription_id: str, deliver: str = "now") -> dict[str, Any]:
        return await self.sandbox(f"subscriptions/{subscription_id}/renew", {"deliver": deliver})

    async def deliver(self, event: dict[str, Any]) -> int:
        """Stripe delivers ``event`` (again), signed, through the webhook."""
        body = encode(event)
        response = await self.api.post_webhook(body, signature(body))
        return response.status_code

    async def grants(self, user: User) -> list[dict[str, Any]]:
        kinds = ("subscription_grant", "subscription_rollover")
        return [e for e in await self.api.transactions(user) if e["kind"] in kinds]


def paid_invoices(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"]["object"] for e in outcome["events"] if e["type"] == "invoice.paid"]
