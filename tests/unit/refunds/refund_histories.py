"""Arranging expiring credits and reading lots for the refund history tests."""

from __future__ import annotations

import secrets

from adapters.sandbox.events import build_event, refund_object
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.rewards.coupon_admin import create_coupon
from application.rewards.coupons import redeem_coupon
from application.webhooks.events import GatewayEvent
from domain.coupon import CouponTerms
from tests.unit.conftest import App


async def redeem_coupon_worth(app: App, user_id: str, credits: int, *, days: int) -> None:
    """A promotional coupon of ``credits`` that expire ``days`` after redemption."""
    code = f"promo{secrets.token_hex(4)}"
    terms = CouponTerms(credits=credits, credit_expiry_days=days)
    await create_coupon(code, terms, uow_factory=app.store.uow_factory, clock=app.clock)
    await redeem_coupon(user_id, code, uow_factory=app.store.uow_factory, clock=app.clock)


async def open_lots(app: App, user_id: str) -> list[object]:
    """The user's lots with credits left: (kind, remaining, expires_at), in spending order."""
    async with app.store.uow() as uow:
        return [
            (lot.kind, lot.remaining, lot.expires_at) for lot in await uow.lots.open_lots(user_id)
        ]


async def fail_at_gateway(app: App, refund: GatewayRefund) -> GatewayEvent:
    """The refund fails at the gateway (a closed card): the event Stripe sends for it.

    The sandbox cannot fail a refund: its record is dropped, so the charge can be
    refunded in full again, as on Stripe, and the failure is reported by hand.
    """
    assert refund.payment_intent_id is not None
    intent = app.sandbox_store.intent(refund.payment_intent_id)
    [record] = [r for r in intent.refunds if r.id == refund.refund_id]
    intent.refunds.remove(record)
    record.status = RefundStatus.FAILED
    before = len(app.kept_events())
    created = int(app.clock.now().timestamp())
    failed = build_event("refund.failed", refund_object(record), created)
    app.sandbox_store.save(intent, events=(failed,))
    [event] = app.kept_events()[before:]
    return event
