"""Each gateway adapter implements every capability port, so the composition root can
hand one object to use cases that each ask for only the capability they use."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory.gateway import MemoryGateway
from adapters.sandbox.gateway import SandboxGateway
from adapters.stripe.client import StripeGateway
from application.gateway import PaymentGateway


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_stripe_sandbox_and_memory_gateways_are_whole_gateways() -> None:
    stripe = StripeGateway("sk_test_capabilities", ["whsec_test"])
    try:
        assert isinstance(stripe, PaymentGateway)
    finally:
        await stripe.aclose()
    assert isinstance(SandboxGateway(["whsec_test"], "http://sandbox.test", _now), PaymentGateway)
    assert isinstance(MemoryGateway(_now), PaymentGateway)
