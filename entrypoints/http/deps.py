"""Litestar dependencies that ask the container (no @inject on handlers).

A handler names what it needs (``create_checkout_session``, ``principal``) and gets
it ready: ``@inject`` would turn the parameters into query parameters instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.di import Provide

from entrypoints.container import Container, use_case_providers
from entrypoints.http.auth import AUTHENTICATE, RECENT_CALLERS, RecentCallers, provide_principal


def _ask(provider: Callable[[], object]) -> Provide:
    def provide() -> object:
        return provider()

    return Provide(provide, sync_to_thread=False)


def app_state(container: Container) -> dict[str, Any]:
    return {AUTHENTICATE: container.use_cases.authenticate(), RECENT_CALLERS: RecentCallers()}


def dependencies(container: Container) -> dict[str, Provide]:
    bound = {name: _ask(provider) for name, provider in use_case_providers(container).items()}
    return {
        **bound,
        "principal": Provide(provide_principal),
        "clock": _ask(container.clock),
        "metrics": _ask(container.metrics),
    }
