"""Sandbox subscriptions are one sandbox for every process on a database, too.

A subscription bought through one app (``creditline serve``) is renewed through a
second app on the same database, SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import AppUnderTest, client_of, make_app
from tests.e2e.subscription_api import PLANS_TOML, Subs, when


def subscription_app(db_url: str, tmp_path: Path) -> AppUnderTest:
    config = tmp_path / "plans.toml"
    config.write_text(PLANS_TOML, encoding="utf-8")
    return make_app(db_url, CREDITLINE_CONFIG=str(config))


async def test_a_subscription_bought_on_one_replica_is_renewed_on_another(
    db_url: str, tmp_path: Path
) -> None:
    one, two = subscription_app(db_url, tmp_path), subscription_app(db_url, tmp_path)
    async with client_of(one) as first, client_of(two) as second:
        user = await first.create_user()
        sub = await Subs(first).subscribe(user, "basic")

        outcome = await Subs(second).renew(sub["id"])

        assert outcome["status"] == "succeeded"
        renewed = await Subs(second).subscription(user)
        assert when(renewed["current_period_start"]) == when(sub["current_period_end"])
        assert await second.credits(user) == 2000
        assert [e["type"] for e in outcome["events"]] == [
            "customer.subscription.updated",
            "invoice.paid",
        ]
