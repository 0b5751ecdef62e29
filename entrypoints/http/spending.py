"""/api/credits: debits, holds and balances, for services acting on behalf of users.

Every route needs a service key (SERVICE_API_KEYS) or an admin's; a user's own key is
403, or users could spend without limit. Refused debits are counted by their code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from adapters.metrics.prometheus import PrometheusMetrics
from application.spending.capture_hold import Captured
from application.spending.spend import DebitResult, Outcome
from domain.errors import DomainError
from domain.holds import Hold
from domain.ledger import Account
from entrypoints.http import spending_schemas as s
from entrypoints.http.auth import requires_service
from entrypoints.http.openapi import errors
from entrypoints.http.params import UseCase, strict_body


class SpendingController(Controller):
    path = "/api/credits"
    tags = ["spending"]
    guards = [requires_service]

    @post("/debit", status_code=200, responses=errors(402, 404, 409))
    async def debit(
        self,
        data: JSONBody[s.DebitIn],
        request: Request[Any, Any, Any],
        debit: NamedDependency[UseCase[DebitResult]],
        metrics: NamedDependency[PrometheusMetrics],
    ) -> s.DebitOut:
        data = await strict_body(request, s.DebitIn)
        try:
            result = await debit(data.debit())
        except DomainError as refused:
            metrics.debit_refused(refused.code)
            raise
        return s.DebitOut.of(result)

    @post("/debits", status_code=200, responses=errors(404, 409))
    async def debits(
        self,
        data: JSONBody[s.DebitsIn],
        request: Request[Any, Any, Any],
        debit_batch: NamedDependency[UseCase[Sequence[Outcome]]],
        metrics: NamedDependency[PrometheusMetrics],
    ) -> s.DebitsOut:
        data = await strict_body(request, s.DebitsIn)
        outcomes = await debit_batch([item.debit() for item in data.debits])
        for outcome in outcomes:
            if isinstance(outcome, DomainError):
                metrics.debit_refused(outcome.code)
        results = [
            s.DebitItemOut.of(item.idempotency_key, outcome)
            for item, outcome in zip(data.debits, outcomes, strict=True)
        ]
        refused = sum(isinstance(outcome, DomainError) for outcome in outcomes)
        return s.DebitsOut(results, len(results) - refused, refused)

    @get("/balance/{user_id:str}")
    async def balance(
        self, user_id: FromPath[str], get_balance: NamedDependency[UseCase[Account]]
    ) -> s.BalanceOut:
        return s.BalanceOut.of(await get_balance(user_id))

    @post("/holds", status_code=201, responses=errors(402, 404, 409))
    async def place(
        self,
        data: JSONBody[s.HoldIn],
        request: Request[Any, Any, Any],
        place_hold: NamedDependency[UseCase[Hold]],
    ) -> s.HoldOut:
        data = await strict_body(request, s.HoldIn)
        hold = await place_hold(data.user_id, data.credits, data.idempotency_key, data.ttl_seconds)
        return s.HoldOut.of(hold)

    @post("/holds/{hold_id:str}/capture", status_code=200, responses=errors(402, 409))
    async def capture(
        self,
        hold_id: FromPath[str],
        data: JSONBody[s.CaptureIn],
        request: Request[Any, Any, Any],
        capture_hold: NamedDependency[UseCase[Captured]],
    ) -> s.CapturedOut:
        data = await strict_body(request, s.CaptureIn)
        return s.CapturedOut.of(await capture_hold(hold_id, data.credits))

    @post("/holds/{hold_id:str}/release", status_code=200, responses=errors(409))
    async def release(
        self, hold_id: FromPath[str], release_hold: NamedDependency[UseCase[Hold]]
    ) -> s.HoldOut:
        return s.HoldOut.of(await release_hold(hold_id))
