"""Outbound delivery on the memory store, a fixed clock and a scripted endpoint.

``Endpoint`` answers each post with the next of its ``answers`` (then 200 forever) and
keeps what it was sent; ``Outbound`` bundles it with the store and the clock, records
events, runs ``deliver_events`` and reads the outbox back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.memory.uow import MemoryStore
from application.batch import JobReport, NoControl
from application.outbound.deliver_events import DeliveryPolicy, deliver_events
from application.outbound.sender import Posted
from application.outbox import OutboxMessage
from domain.events import CouponRedeemed, DomainEvent, PaymentClosed

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECRETS = ("whsec_out_current_0123456789", "whsec_out_previous_012345678")


@dataclass
class Endpoint:
    answers: list[Posted | Exception] = field(default_factory=list)
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Posted:
        self.received.append((body, dict(headers)))
        answer = self.answers.pop(0) if self.answers else Posted(200)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@dataclass
class Outbound:
    store: MemoryStore
    clock: FixedClock
    endpoint: Endpoint
    jitter: float = 0.5

    async def record(self, *events: DomainEvent) -> None:
        async with self.store.uow() as uow:
            for event in events:
                uow.record(event)
            await uow.commit()

    async def deliver(self, policy: DeliveryPolicy | None = None) -> JobReport:
        return await deliver_events(
            uow_factory=self.store.uow_factory,
            sender=self.endpoint,
            secrets=SECRETS,
            clock=self.clock,
            jitter=lambda: self.jitter,
            policy=policy or DeliveryPolicy(),
            control=NoControl(),
        )

    def row(self, event: DomainEvent) -> OutboxMessage:
        return self.store.state.outbox[event.event_id]


@pytest.fixture
def outbound() -> Outbound:
    return Outbound(MemoryStore(), FixedClock(T0), Endpoint())


def redeemed(user_id: str = "u1", coupon_id: str = "cpn_1", at: datetime = T0) -> CouponRedeemed:
    return CouponRedeemed(
        user_id=user_id,
        occurred_at=at,
        coupon_id=coupon_id,
        code="WELCOME",
        redemption_id=f"red_{coupon_id}_{user_id}",
        credits=500,
        credits_expire_at=None,
    )


def closed(user_id: str = "u1", at: datetime = T0) -> PaymentClosed:
    return PaymentClosed(
        user_id=user_id, occurred_at=at, payment_id="pay_1", status="failed", reason="declined"
    )
