"""Subscriptions on the memory adapters and the memory gateway, with a fixed clock.

``World`` subscribes a user at the gateway with the use cases, keeps the gateway's
events instead of delivering them, and hands events to ``handle_gateway_event`` on
any store (so one lifecycle can be replayed on copies, in any order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from adapters.clock import FixedClock
from adapters.memory.gateway import MemoryGateway
from adapters.memory.uow import MemoryStore
from adapters.stripe.events import translate_event
from application.accounts.users import create_user
from application.subscriptions.create_subscription_checkout import (
    Subscribe,
    create_subscription_checkout,
)
from application.subscriptions.settings import SubscriptionSettings
from application.webhooks.events import GatewayEvent
from application.webhooks.handle_gateway_event import handle_gateway_event
from application.webhooks.handling import EventOutcome
from domain.money import Money
from domain.plans import Interval, Plan, PlanCatalogue
from domain.redirects import RedirectPolicy
from tests.unit.conftest import CARD_OK, FRONTEND, T0

BASIC = Plan("basic", "Basic", "price_basic", Money(1000, "usd"), Interval.MONTH, 1000)
PLUS = Plan("plus", "Plus", "price_plus", Money(2000, "usd"), Interval.MONTH, 2500, 500)
PRO = Plan("pro", "Pro", "price_pro", Money(4000, "usd"), Interval.MONTH, 6000)
YEARLY = Plan("yearly", "Yearly", "price_yearly", Money(20000, "usd"), Interval.YEAR, 30000)
PLANS = PlanCatalogue.of([BASIC, PLUS, PRO, YEARLY])


def settings() -> SubscriptionSettings:
    return SubscriptionSettings(PLANS, RedirectPolicy(FRONTEND), timedelta(hours=1))


@dataclass
class World:
    clock: FixedClock = field(default_factory=lambda: FixedClock(T0))
    store: MemoryStore = field(default_factory=MemoryStore)
    gateway: MemoryGateway = field(init=False)
    seen: int = 0

    def __post_init__(self) -> None:
        self.gateway = MemoryGateway(self.clock.now)

    async def user(self) -> str:
        created = await create_user(
            f"sub-{self.clock.now().timestamp()}-{id(self)}@example.com",
            uow_factory=self.store.uow_factory,
            clock=self.clock,
        )
        return created.user.id

    async def subscribe(self, user_id: str, plan: Plan = BASIC) -> str:
        """Checkout at the gateway, paid; returns the subscription id (events kept)."""
        opened = await create_subscription_checkout(
            Subscribe(user_id, plan.id),
            uow_factory=self.store.uow_factory,
            gateway=self.gateway,
            clock=self.clock,
            settings=settings(),
        )
        outcome = await self.gateway.pay_checkout(opened.session_id, CARD_OK, "never")
        created = next(e for e in outcome.payloads() if e["type"] == "checkout.session.completed")
        subscription_id: str = created["data"]["object"]["subscription"]
        return subscription_id

    def new_events(self) -> list[GatewayEvent]:
        """The events the gateway produced since the last call, as the webhook sees them."""
        payloads = self.gateway.subscription_event_payloads()
        fresh, self.seen = payloads[self.seen :], len(payloads)
        return [translate_event(payload) for payload in fresh]

    def payloads(self) -> list[dict[str, Any]]:
        return self.gateway.subscription_event_payloads()

    async def apply(
        self, events: list[GatewayEvent], store: MemoryStore | None = None
    ) -> list[EventOutcome]:
        target = self.store if store is None else store
        return [
            await handle_gateway_event(
                event, uow_factory=target.uow_factory, gateway=self.gateway, clock=self.clock
            )
            for event in events
        ]

    async def balance(self, user_id: str, store: MemoryStore | None = None) -> int:
        state = (self.store if store is None else store).state
        return state.accounts[user_id].balance
