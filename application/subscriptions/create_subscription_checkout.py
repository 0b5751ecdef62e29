"""POST /api/stripe/subscription-checkout: a hosted Checkout in subscription mode.

One live subscription per user, and one subscription Checkout at a time: opening one
claims the user's row (``claim_checkout``, atomic) until the Checkout lapses, so of
concurrent requests one opens and the rest answer ``subscription_exists``. The claim
is taken before the live subscription is read, so a subscription recorded meanwhile
(which gives the claim back) is seen. A retry with the same ``Idempotency-Key`` holds
the same claim and gets the same Checkout. The Checkout grants nothing; the
subscription's paid invoices do (``grant_invoice``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ids import new_id
from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.customers import customer_of
from application.subscriptions.gateway import SubscriptionCheckoutRequest, SubscriptionGateway
from application.subscriptions.settings import SubscriptionSettings, client_key
from domain.errors import SubscriptionExists
from domain.plans import Plan


@dataclass(frozen=True, slots=True)
class Subscribe:
    user_id: str
    plan_id: str
    success_url: str | None = None
    cancel_url: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionCheckoutOpened:
    session_id: str
    url: str
    expires_at: datetime
    plan_id: str


async def create_subscription_checkout(
    command: Subscribe,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: SubscriptionGateway,
    clock: Clock,
    settings: SubscriptionSettings,
) -> SubscriptionCheckoutOpened:
    plan = settings.plans.get(command.plan_id)
    success_url = settings.redirects.resolve(command.success_url, "/subscription/success")
    cancel_url = settings.redirects.resolve(command.cancel_url, "/subscription/cancel")
    key = client_key(command.user_id, f"checkout:{plan.id}", command.idempotency_key)
    key = key or f"subscription_checkout:{new_id('sc')}"
    expires_at = clock.now() + settings.checkout_expires_in
    await _claim(command.user_id, plan, key, expires_at, uow_factory, clock)
    try:
        customer_id = await customer_of(
            command.user_id, uow_factory=uow_factory, gateway=gateway, clock=clock
        )
        created = await gateway.create_subscription_checkout(
            SubscriptionCheckoutRequest(
                user_id=command.user_id,
                customer_id=customer_id,
                plan=plan,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=expires_at,
                idempotency_key=key,
            )
        )
    except Exception:
        async with uow_factory() as uow:  # no Checkout was opened: give the claim back
            await uow.subscriptions.release_checkout(command.user_id, key)
            await uow.commit()
        raise
    return SubscriptionCheckoutOpened(created.session_id, created.url, created.expires_at, plan.id)


async def _claim(
    user_id: str,
    plan: Plan,
    key: str,
    until: datetime,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    async with uow_factory() as uow:
        if not await uow.subscriptions.claim_checkout(user_id, key, until, clock.now()):
            raise SubscriptionExists("a subscription checkout is already open; finish it first")
        live = await uow.subscriptions.for_user(user_id)
        if live is not None and live.is_live:
            raise SubscriptionExists(f"subscription {live.id} is {live.status}; change its plan")
        await uow.subscriptions.record_plan(plan, clock.now())
        await uow.commit()
