"""Litestar dependencies that ask the container (no @inject on handlers)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from application.accounts.users import Principal, authenticate
from application.ids import hash_api_key
from domain.errors import Forbidden
from entrypoints.container import Container


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def dependencies(container: Container) -> dict[str, Provide]:
    admin_hashes = tuple(hash_api_key(k) for k in container.settings().admin_api_keys)

    async def principal(request: Request[Any, Any, Any]) -> Principal:
        return await authenticate(
            _bearer(request), admin_key_hashes=admin_hashes, uow_factory=container.uow_factory()
        )

    async def admin(principal: NamedDependency[Principal]) -> Principal:
        if not principal.is_admin:
            raise Forbidden("admin only")
        return principal

    def provide(getter: Any) -> Provide:
        return Provide(lambda: getter(), sync_to_thread=False, use_cache=True)

    return {
        "principal": Provide(principal),
        "admin": Provide(admin),
        "uow_factory": provide(container.uow_factory),
        "gateway": provide(container.gateway),
        "clock": provide(container.clock),
        "settings": provide(container.settings),
    }
