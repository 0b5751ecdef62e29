"""An admin refund request is one refund at the gateway, and its retries are that refund.

Each request is recorded (payment, attempt number, the client's Idempotency-Key) before
the gateway is called, and the gateway key comes from that row: a new request after a
failed refund, or beside a concurrent one of the same amount, is a new refund; a retry
(same Idempotency-Key at any time, or a key-less retry of a request whose answer was
lost) is the first refund again, answered with the first answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from application.refunds.gateway import GatewayRefund, RefundRequest, RefundStatus
from application.refunds.refund_payment import RefundPayment, RefundResult, refund_payment
from domain.errors import (
    GatewayRejected,
    GatewayUnavailable,
    IdempotencyKeyReused,
    RequestInProgress,
)
from domain.payment import Payment
from tests.unit.conftest import App, refund_object, stripe_event


async def refund(
    app: App,
    payment: Payment,
    amount: int | None,
    key: str | None = None,
    reason: str | None = None,
) -> RefundResult:
    return await refund_payment(
        RefundPayment(payment.id, None, amount, reason, key),
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
    )


async def paid(app: App, amount: int = 1000) -> Payment:
    payment = await app.open_checkout(amount)
    await app.handle_all(await app.pay(payment))
    return app.payment(payment.id)


def gateway_refunds(app: App, payment: Payment) -> list[tuple[int, RefundStatus]]:
    assert payment.stripe_payment_intent_id is not None
    intent = app.sandbox_store.intent(payment.stripe_payment_intent_id)
    return [(r.amount, r.status) for r in intent.refunds]


async def fail_at_gateway(app: App, payment: Payment, refund_id: str) -> None:
    """The gateway reports the refund failed (the bank returned it), and we hear of it."""
    assert payment.stripe_payment_intent_id is not None
    intent = app.sandbox_store.intent(payment.stripe_payment_intent_id)
    record = next(r for r in intent.refunds if r.id == refund_id)
    record.status = RefundStatus.FAILED
    app.sandbox_store.save(intent)
    failed = GatewayRefund(
        refund_id, intent.id, record.amount, record.currency, RefundStatus.FAILED
    )
    await app.handle(stripe_event("refund.failed", refund_object(failed)))


def hold_gateway(app: App, until: int) -> asyncio.Event:
    """Refund calls wait until ``until`` of them arrived, or the returned event is set."""
    arrived, release = [0], asyncio.Event()
    real_refund = app.gateway.refund

    async def held(request: RefundRequest, **kwargs: Any) -> GatewayRefund:
        arrived[0] += 1
        if arrived[0] >= until:
            release.set()
        await asyncio.wait_for(release.wait(), 1)
        return await real_refund(request, **kwargs)

    app.gateway.refund = held  # type: ignore[method-assign]
    return release


def forget_keys(app: App) -> None:
    """Stripe keeps an idempotency key 24 hours, then forgets it."""
    app.sandbox_store.forget_keys()


async def test_a_refund_repeated_after_a_failed_one_is_a_new_refund(app: App) -> None:
    payment = await paid(app)
    first = await refund(app, payment, 400)
    await fail_at_gateway(app, payment, first.refund_id)
    assert app.balance(payment.user_id) == 1000

    second = await refund(app, app.payment(payment.id), 400)

    assert second.refund_id != first.refund_id
    assert (second.status, second.credits_reversed) == ("succeeded", 400)
    assert gateway_refunds(app, payment) == [
        (400, RefundStatus.FAILED),
        (400, RefundStatus.SUCCEEDED),
    ]
    assert app.balance(payment.user_id) == 600
    assert app.payment(payment.id).amount_refunded == 400
    assert await app.mismatches() == []


async def test_two_concurrent_keyless_refunds_of_one_amount_are_two_refunds(app: App) -> None:
    payment = await paid(app)
    hold_gateway(app, until=2)  # both requests have read the payment before either refunds

    one, two = await asyncio.gather(refund(app, payment, 300), refund(app, payment, 300))

    assert one.refund_id != two.refund_id
    assert (one.credits_reversed, two.credits_reversed) == (300, 300)
    assert len(gateway_refunds(app, payment)) == 2
    assert app.balance(payment.user_id) == 400
    assert await app.mismatches() == []


async def test_a_keyless_retry_after_a_lost_answer_whose_webhook_applied_refunds_once(
    app: App,
) -> None:
    payment = await paid(app)
    before = len(app.kept_events())
    app.gateway.fail_next("refund", after=True)  # refunded; the answer never came back
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400)
    await app.handle_all(app.kept_events()[before:])  # its webhooks applied it
    assert app.balance(payment.user_id) == 600

    retried = await refund(app, app.payment(payment.id), 400)

    assert (retried.status, retried.credits_reversed) == ("succeeded", 400)
    assert gateway_refunds(app, payment) == [(400, RefundStatus.SUCCEEDED)]
    assert app.balance(payment.user_id) == 600
    assert await app.mismatches() == []


async def test_a_retry_of_a_lost_refund_that_failed_since_reports_it_failed(app: App) -> None:
    payment = await paid(app)
    app.gateway.fail_next("refund", after=True)
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400)
    (made,) = app.sandbox_store.intent(payment.stripe_payment_intent_id or "").refunds
    await fail_at_gateway(app, payment, made.id)

    retried = await refund(app, app.payment(payment.id), 400)

    assert (retried.refund_id, retried.status, retried.credits_reversed) == (made.id, "failed", 0)
    assert app.balance(payment.user_id) == 1000


async def test_a_keyed_retry_after_the_gateway_forgot_the_key_answers_the_first_result(
    app: App,
) -> None:
    payment = await paid(app)
    first = await refund(app, payment, 400, key="refund-1", reason="requested_by_customer")
    forget_keys(app)

    again = await refund(app, app.payment(payment.id), 400, "refund-1", "requested_by_customer")

    assert again == first
    assert gateway_refunds(app, payment) == [(400, RefundStatus.SUCCEEDED)]
    assert app.balance(payment.user_id) == 600


async def test_a_keyed_retry_of_a_full_refund_answers_it_although_nothing_remains(
    app: App,
) -> None:
    payment = await paid(app)
    first = await refund(app, payment, None, key="all")
    forget_keys(app)
    assert await refund(app, app.payment(payment.id), None, key="all") == first
    assert gateway_refunds(app, payment) == [(1000, RefundStatus.SUCCEEDED)]


async def test_a_keyed_retry_after_a_lost_answer_refunds_once(app: App) -> None:
    payment = await paid(app)
    app.gateway.fail_next("refund", after=True)
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400, key="k")
    retried = await refund(app, payment, 400, key="k")
    assert (retried.status, retried.credits_reversed) == ("succeeded", 400)
    assert gateway_refunds(app, payment) == [(400, RefundStatus.SUCCEEDED)]
    assert app.balance(payment.user_id) == 600


async def test_a_key_reused_for_another_amount_reason_or_payment_is_refused(app: App) -> None:
    payment = await paid(app)
    other = await paid(app)
    await refund(app, payment, 400, key="k")
    with pytest.raises(IdempotencyKeyReused):
        await refund(app, payment, 300, key="k")
    with pytest.raises(IdempotencyKeyReused):
        await refund(app, payment, 400, key="k", reason="duplicate")
    with pytest.raises(IdempotencyKeyReused):
        await refund(app, other, 400, key="k")
    assert gateway_refunds(app, payment) == [(400, RefundStatus.SUCCEEDED)]
    assert gateway_refunds(app, other) == []


async def test_a_key_in_flight_is_refused_until_its_request_ends(app: App) -> None:
    payment = await paid(app)
    release = hold_gateway(app, until=2)
    first = asyncio.create_task(refund(app, payment, 400, key="k"))
    await asyncio.sleep(0)
    with pytest.raises(RequestInProgress):
        await asyncio.wait_for(refund(app, payment, 400, key="k"), 1)
    release.set()
    assert (await first).credits_reversed == 400
    assert await refund(app, payment, 400, key="k") == await first


async def test_a_keyed_retry_after_an_outage_refunds_once(app: App) -> None:
    payment = await paid(app)
    app.gateway.fail_next("refund")  # nothing happened at the gateway
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400, key="k")
    assert (await refund(app, payment, 400, key="k")).credits_reversed == 400
    assert gateway_refunds(app, payment) == [(400, RefundStatus.SUCCEEDED)]


async def test_a_refund_the_gateway_refused_is_not_kept_as_a_request(app: App) -> None:
    payment = await paid(app)
    await app.refund_at_gateway(payment, 1000)  # from its dashboard; webhooks not yet here
    with pytest.raises(GatewayRejected):
        await refund(app, payment, 400, key="k")
    assert app.store.state.refund_attempts == {}
