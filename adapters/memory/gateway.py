"""``MemoryGateway``: the payment gateway fake for unit tests.

It is the sandbox's state machine (one behaviour to keep right, not two), without a
webhook endpoint by default, plus what tests need: signed events built by hand, and
outages, including the nasty one where the gateway acted but its answer was lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from adapters.sandbox.events import build_event
from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.records import SandboxEvent
from adapters.sandbox.webhooks import Deliver, DeliveryMode
from application.purchases.gateway import (
    CheckoutCreated,
    CheckoutRequest,
    CheckoutState,
    PaymentIntentRequest,
    PaymentIntentState,
)
from application.refunds.gateway import GatewayRefund, RefundRequest
from application.webhooks.events import GatewayEvent
from domain.errors import GatewayUnavailable

T = TypeVar("T")

MEMORY_WEBHOOK_SECRET = "whsec_memory_test"  # noqa: S105 (signs test events only)


@dataclass(slots=True)
class _Fault:
    operation: str | None
    remaining: int
    after: bool


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class MemoryGateway(SandboxGateway):
    def __init__(
        self,
        now: Callable[[], datetime] = _wall_clock,
        *,
        webhook_secret: str = MEMORY_WEBHOOK_SECRET,
        public_url: str = "http://testserver",
        deliver: Deliver | None = None,
    ) -> None:
        super().__init__((webhook_secret,), public_url, now, deliver)
        self._faults: list[_Fault] = []

    def fail_next(
        self, operation: str | None = None, *, times: int = 1, after: bool = False
    ) -> None:
        """Make the next ``times`` gateway calls (of ``operation``, or any) raise.

        With ``after=True`` the call takes effect first and only its answer is lost,
        like a timeout after Stripe acted: the case idempotency keys exist for.
        """
        self._faults.append(_Fault(operation, times, after))

    def make_event(
        self, event_type: str, obj: Mapping[str, Any], *, event_id: str | None = None
    ) -> tuple[bytes, str]:
        """A signed Stripe-shaped event around ``obj``; the gateway does not keep it."""
        created = int(self._now().timestamp())
        return self.signed(build_event(event_type, dict(obj), created, event_id))

    def signed(self, event: SandboxEvent) -> tuple[bytes, str]:
        """The body and ``Stripe-Signature`` a delivery of ``event`` would carry now."""
        return event.body, self.sign(event.body)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        return await self._call("create_checkout", partial(super().create_checkout, request))

    async def get_checkout(self, session_id: str) -> CheckoutState:
        return await self._call("get_checkout", partial(super().get_checkout, session_id))

    async def create_payment_intent(self, request: PaymentIntentRequest) -> PaymentIntentState:
        call = partial(super().create_payment_intent, request)
        return await self._call("create_payment_intent", call)

    async def get_payment_intent(self, intent_id: str) -> PaymentIntentState:
        return await self._call(
            "get_payment_intent", partial(super().get_payment_intent, intent_id)
        )

    async def refund(
        self, request: RefundRequest, *, deliver: DeliveryMode = "now"
    ) -> GatewayRefund:
        return await self._call("refund", partial(super().refund, request, deliver=deliver))

    async def list_refunds(self, payment_intent_id: str) -> Sequence[GatewayRefund]:
        return await self._call("list_refunds", partial(super().list_refunds, payment_intent_id))

    async def expire_checkout(
        self, session_id: str, *, deliver: DeliveryMode = "now"
    ) -> CheckoutState:
        call = partial(super().expire_checkout, session_id, deliver=deliver)
        return await self._call("expire_checkout", call)

    async def cancel_payment_intent(
        self, intent_id: str, *, deliver: DeliveryMode = "now"
    ) -> PaymentIntentState:
        call = partial(super().cancel_payment_intent, intent_id, deliver=deliver)
        return await self._call("cancel_payment_intent", call)

    async def list_events(self, created_after: datetime) -> list[GatewayEvent]:
        return await self._call("list_events", partial(super().list_events, created_after))

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        fault = self._take_fault(operation)
        if fault is not None and not fault.after:
            raise GatewayUnavailable(f"simulated gateway outage before {operation}")
        result = await call()
        if fault is not None:
            raise GatewayUnavailable(f"simulated gateway outage after {operation}")
        return result

    def _take_fault(self, operation: str) -> _Fault | None:
        for fault in self._faults:
            if fault.operation in (None, operation):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None
