"""/api/stripe: subscription plans, subscribing, and changing a subscription."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from application.accounts.users import Principal
from application.subscriptions.cancel_subscription import CancelSubscription
from application.subscriptions.change_subscription import ChangePlan
from application.subscriptions.create_subscription_checkout import (
    Subscribe,
    SubscriptionCheckoutOpened,
)
from application.subscriptions.get_subscription import SubscriptionView
from application.subscriptions.resume_subscription import ResumeSubscription
from domain.plans import Plan
from entrypoints.http import subscription_schemas as s
from entrypoints.http.openapi import errors
from entrypoints.http.params import Body, IdempotencyKey, UseCase, strict_body


async def _optional_body(request: Request[Any, Any, Any], kind: type[Body]) -> Body:
    """These bodies have only defaults: an empty body (or ``null``) means all of them."""
    if (await request.body()).strip() in (b"", b"null"):
        return kind()
    return await strict_body(request, kind)


class SubscriptionsController(Controller):
    path = "/api/stripe"
    tags = ["subscriptions"]

    @get("/subscription-plans")
    async def plans(self, subscription_plans: NamedDependency[Sequence[Plan]]) -> list[s.PlanOut]:
        return [s.PlanOut.of(plan) for plan in subscription_plans]

    @post("/subscription-checkout", status_code=200, responses=errors(404, 409, 422))
    async def subscribe(
        self,
        data: JSONBody[s.SubscriptionCheckoutIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        create_subscription_checkout: NamedDependency[UseCase[SubscriptionCheckoutOpened]],
    ) -> s.SubscriptionCheckoutOut:
        data = await strict_body(request, s.SubscriptionCheckoutIn)
        user = principal.require_user()
        command = Subscribe(
            user.id, data.plan_id, data.success_url, data.cancel_url, idempotency_key
        )
        return s.SubscriptionCheckoutOut.of(await create_subscription_checkout(command))

    @get("/subscription", responses=errors(404))
    async def subscription(
        self,
        principal: NamedDependency[Principal],
        get_subscription: NamedDependency[UseCase[SubscriptionView]],
    ) -> s.SubscriptionOut:
        return s.SubscriptionOut.of(await get_subscription(principal.require_user().id))

    @post("/subscription/change", status_code=200, responses=errors(404, 409, 422))
    async def change(
        self,
        data: JSONBody[s.ChangePlanIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        change_subscription: NamedDependency[UseCase[SubscriptionView]],
    ) -> s.SubscriptionOut:
        data = await strict_body(request, s.ChangePlanIn)
        user = principal.require_user()
        command = ChangePlan(user.id, data.plan_id, data.proration, idempotency_key)
        return s.SubscriptionOut.of(await change_subscription(command))

    @post("/subscription/cancel", status_code=200, responses=errors(404, 409, 422))
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        cancel_subscription: NamedDependency[UseCase[SubscriptionView]],
        data: JSONBody[s.CancelIn | None] = None,
    ) -> s.SubscriptionOut:
        body = await _optional_body(request, s.CancelIn)
        user = principal.require_user()
        command = CancelSubscription(user.id, body.at_period_end, idempotency_key)
        return s.SubscriptionOut.of(await cancel_subscription(command))

    @post("/subscription/resume", status_code=200, responses=errors(404, 409, 422))
    async def resume(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        resume_subscription: NamedDependency[UseCase[SubscriptionView]],
        data: JSONBody[s.ResumeIn | None] = None,
    ) -> s.SubscriptionOut:
        await _optional_body(request, s.ResumeIn)
        command = ResumeSubscription(principal.require_user().id, idempotency_key)
        return s.SubscriptionOut.of(await resume_subscription(command))
