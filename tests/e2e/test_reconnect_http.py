"""Over HTTP: once PostgreSQL is back, no request answers 503 for a connection it dropped.

The served app's pool is filled by concurrent requests, then every backend of its
database is killed from a separate connection; the very next requests, as many at
once as there were pooled connections, must all succeed on their first try: ``GET
/user/balance`` (a unit of work) and ``GET /ready`` (a bare connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.sqlalchemy.migrate import upgrade
from tests.conftest import run_async
from tests.e2e.conftest import Api, make_app, served
from tests.integration.test_reconnect_postgres import kill_other_backends

pytestmark = pytest.mark.postgres

CONCURRENT = 12


@pytest.fixture(scope="module")
def own_database(new_pg_database: Callable[[], str]) -> str:
    """A database of this module alone: killing its backends disturbs no other test."""
    url = new_pg_database()
    run_async(lambda: upgrade(url))
    return url


@pytest.fixture
async def api(own_database: str) -> AsyncIterator[Api]:
    async with served(make_app(own_database)) as api:
        yield api


async def statuses(api: Api, path: str, headers: dict[str, str]) -> list[int]:
    responses = await asyncio.gather(
        *(api.http.get(path, headers=headers) for _ in range(CONCURRENT))
    )
    return [r.status_code for r in responses]


@pytest.mark.parametrize("path", ["/user/balance", "/ready"])
async def test_requests_right_after_the_backends_were_killed_succeed_first_time(
    api: Api, own_database: str, path: str
) -> None:
    user = await api.create_user()
    assert await statuses(api, "/user/balance", user.headers) == [200] * CONCURRENT
    pooled = api.under_test.container.engine().pool.checkedin()  # type: ignore[attr-defined]
    assert pooled >= 2

    assert await kill_other_backends(own_database) >= pooled

    assert await statuses(api, path, user.headers) == [200] * CONCURRENT
    assert await statuses(api, path, user.headers) == [200] * CONCURRENT
