"""429 per caller: each API key (or address) has its own budget; webhooks are exempt."""

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings


@pytest.fixture
async def client(tmp_path):
    from adapters.sqlalchemy.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/limits.db"
    await upgrade(url)
    settings = load_settings(
        {"DATABASE_URL": url, "RATE_LIMIT_PER_MINUTE": "3", "ADMIN_API_KEYS": "operator-key"}
    )
    async with AsyncTestClient(create_app(build_container(settings))) as http:
        yield http


async def test_a_caller_over_its_budget_gets_429_with_the_error_shape(client) -> None:
    statuses = [(await client.get("/api/stripe/credit-packages")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = (await client.get("/api/stripe/credit-packages")).json()
    assert body["error"]["code"] == "rate_limited"


async def test_each_api_key_has_its_own_budget(client) -> None:
    for _ in range(3):
        await client.get("/api/stripe/credit-packages")
    other = {"Authorization": "Bearer operator-key"}
    response = await client.post("/api/users", json={"email": "x@example.com"}, headers=other)
    assert response.status_code == 201


async def test_webhooks_and_health_are_never_throttled(client) -> None:
    for _ in range(6):
        assert (await client.get("/health")).status_code == 200
        response = await client.post("/api/stripe/webhook", content=b"{}")
        assert response.status_code == 400  # unsigned: refused, but not rate limited
