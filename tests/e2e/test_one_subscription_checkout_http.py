"""On PostgreSQL, through the HTTP API: ten subscription Checkouts requested at once
for one user open one; the other nine are refused (409 ``subscription_exists``)."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.subscription_api import Subs, subs_app_fixture, subs_fixture  # noqa: F401

pytestmark = pytest.mark.postgres


async def test_ten_concurrent_subscription_checkouts_open_one(subs: Subs) -> None:
    user = await subs.api.create_user()
    responses = await asyncio.gather(*(subs.checkout(user, "basic") for _ in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, [r.text for r in responses]
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes == {"subscription_exists"}
    [opened] = [r.json() for r in responses if r.status_code == 200]
    paid = await subs.api.pay(opened["session_id"])
    assert paid["status"] == "succeeded"
    assert (await subs.subscription(user))["status"] == "active"
    again = await subs.checkout(user, "plus")
    assert again.status_code == 409
