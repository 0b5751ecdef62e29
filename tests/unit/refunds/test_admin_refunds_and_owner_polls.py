"""Admin refunds, and owner polls that repair lost webhooks.

``refund_payment`` refunds at the gateway and reverses credits through the same
per-refund path as the refund webhooks, so whichever comes first reverses and the
other is a no-op. ``sync_checkout_session`` / ``sync_payment_intent`` fulfil a payment
the gateway says is paid when its webhook was lost, through the same exactly-once
grant as the webhook.
"""

from __future__ import annotations

import pytest

from application.purchases.sync_payment import (
    PaymentView,
    sync_checkout_session,
    sync_payment_intent,
)
from application.refunds.refund_payment import RefundPayment, RefundResult, refund_payment
from application.webhooks.handling import EventOutcome
from domain.errors import (
    GatewayUnavailable,
    NotFound,
    RefundExceedsRemaining,
    RefundNotAllowed,
)
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentStatus
from tests.unit.conftest import CARD_3DS, CARD_NO_FUNDS, T0, App, events_of


async def refund(
    app: App,
    payment: Payment | None,
    amount: int | None = None,
    *,
    by_intent: bool = False,
    reason: str | None = None,
) -> RefundResult:
    payment_id = intent_id = None
    if payment is not None and by_intent:
        intent_id = payment.stripe_payment_intent_id
    elif payment is not None:
        payment_id = payment.id
    return await refund_payment(
        RefundPayment(payment_id, intent_id, amount, reason),
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
    )


async def paid_checkout(app: App, amount: int = 1000, currency: str = "usd") -> Payment:
    payment = await app.open_checkout(amount, currency)
    await app.handle_all(await app.pay(payment))
    return app.payment(payment.id)


def reversals(app: App, payment: Payment) -> list[int]:
    return [
        e.credits
        for e in app.entries(payment.user_id)
        if e.kind is EntryKind.REFUND_REVERSAL
        and e.idempotency_key.startswith(f"refund:{payment.id}:")
    ]


def gateway_refunded(app: App, payment: Payment) -> int:
    assert payment.stripe_payment_intent_id is not None
    return app.sandbox_store.intent(payment.stripe_payment_intent_id).amount_refunded


# ---- refund_payment ---------------------------------------------------------------------------


async def test_a_full_refund_reverses_every_credit(app: App) -> None:
    payment = await paid_checkout(app, 1234, "eur")
    result = await refund(app, payment, reason="requested_by_customer")
    assert (result.payment_id, result.amount, result.currency) == (payment.id, 1234, "eur")
    assert (result.status, result.credits_reversed) == ("succeeded", 1332)
    stored = app.payment(payment.id)
    assert (stored.status, stored.amount_refunded, stored.credits_reversed) == (
        PaymentStatus.REFUNDED,
        1234,
        1332,
    )
    assert app.balance(payment.user_id) == 0
    assert reversals(app, payment) == [-1332]
    assert app.store.state.refunds[result.refund_id].credits_reversed == 1332
    assert gateway_refunded(app, payment) == 1234
    assert await app.mismatches() == []


async def test_partial_refunds_add_up_and_never_exceed_what_remains(app: App) -> None:
    payment = await paid_checkout(app, 999)
    first = await refund(app, payment, 333)
    second = await refund(app, payment, 333, by_intent=True)
    assert first.refund_id != second.refund_id
    assert (first.credits_reversed, second.credits_reversed) == (333, 333)
    assert app.payment(payment.id).status is PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(RefundExceedsRemaining):
        await refund(app, payment, 334)
    rest = await refund(app, payment)  # no amount: whatever remains
    assert (rest.amount, rest.credits_reversed) == (333, 333)
    assert app.payment(payment.id).status is PaymentStatus.REFUNDED
    with pytest.raises(RefundNotAllowed):
        await refund(app, payment)
    with pytest.raises(RefundExceedsRemaining):
        await refund(app, payment, 1)
    assert app.balance(payment.user_id) == 0
    assert sorted(reversals(app, payment)) == [-333, -333, -333]
    assert gateway_refunded(app, payment) == 999


@pytest.mark.parametrize("amount", [0, -100, 1001])
async def test_a_refused_amount_refunds_nothing(app: App, amount: int) -> None:
    payment = await paid_checkout(app, 1000)
    with pytest.raises((RefundNotAllowed, RefundExceedsRemaining)):
        await refund(app, payment, amount)
    assert gateway_refunded(app, payment) == 0
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert app.balance(payment.user_id) == 1000


async def test_an_unpaid_payment_cannot_be_refunded(app: App) -> None:
    pending = await app.open_checkout()
    with pytest.raises(RefundNotAllowed):
        await refund(app, pending)
    failed = await app.open_checkout()
    await app.handle_all(await app.pay(failed, CARD_NO_FUNDS))
    with pytest.raises(RefundNotAllowed):
        await refund(app, app.payment(failed.id), 500)
    expired = await app.open_checkout()
    await app.handle_all(await app.expire(expired))
    with pytest.raises(RefundNotAllowed):
        await refund(app, app.payment(expired.id))
    assert app.store.state.refunds == {}


async def test_an_unknown_payment_is_not_found(app: App) -> None:
    with pytest.raises(NotFound):
        await refund_payment(
            RefundPayment("pay_nope", None, None, None),
            uow_factory=app.store.uow_factory,
            gateway=app.gateway,
            clock=app.clock,
        )
    with pytest.raises(NotFound):
        await refund_payment(
            RefundPayment(None, "pi_nope", None, None),
            uow_factory=app.store.uow_factory,
            gateway=app.gateway,
            clock=app.clock,
        )
    with pytest.raises(RefundNotAllowed):
        await refund(app, None)


async def test_the_webhook_arriving_before_the_call_returns_reverses_once(
    wired_app: App,
) -> None:
    app = wired_app
    payment = await app.open_intent(1000)
    assert payment.stripe_payment_intent_id is not None
    await app.gateway.confirm_payment_intent(payment.stripe_payment_intent_id, "4242424242424242")
    assert app.balance(payment.user_id) == 1000  # delivered through the webhook

    result = await refund(app, app.payment(payment.id), 400)
    assert result.credits_reversed == 400
    assert [d.ok for d in app.gateway.deliveries] == [True, True, True]
    outcomes = [e.outcome for e in app.store.state.events.values()]
    assert outcomes == ["granted", "updated", "no_change"]
    assert reversals(app, payment) == [-400]
    assert app.balance(payment.user_id) == 600
    stored = app.payment(payment.id)
    assert (stored.amount_refunded, stored.credits_reversed) == (400, 400)


async def test_the_webhook_arriving_after_the_call_returns_is_a_no_op(app: App) -> None:
    payment = await paid_checkout(app, 1000)
    before = len(app.kept_events())
    result = await refund(app, payment, 400)
    assert result.credits_reversed == 400
    late = app.kept_events()[before:]
    assert [e.type for e in late] == ["charge.refunded", "refund.created"]
    assert await app.handle_all(late) == [EventOutcome.NO_CHANGE, EventOutcome.NO_CHANGE]
    assert reversals(app, payment) == [-400]
    assert app.balance(payment.user_id) == 600


async def test_a_gateway_outage_refunds_nothing_and_a_retry_refunds_once(app: App) -> None:
    payment = await paid_checkout(app, 1000)
    app.gateway.fail_next("refund")
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400)
    assert app.payment(payment.id).amount_refunded == 0
    assert gateway_refunded(app, payment) == 0
    assert (await refund(app, payment, 400)).credits_reversed == 400
    assert gateway_refunded(app, payment) == 400


async def test_a_lost_answer_is_replayed_by_the_retry_not_refunded_twice(app: App) -> None:
    """The gateway refunded but its answer (and webhook) was lost: the retry replays it."""
    payment = await paid_checkout(app, 1000)
    app.gateway.fail_next("refund", after=True)
    with pytest.raises(GatewayUnavailable):
        await refund(app, payment, 400)
    assert gateway_refunded(app, payment) == 400
    assert app.balance(payment.user_id) == 1000
    result = await refund(app, payment, 400)
    assert result.credits_reversed == 400
    assert gateway_refunded(app, payment) == 400
    assert app.balance(payment.user_id) == 600
    assert len(app.store.state.refunds) == 1


async def test_a_lost_answer_whose_webhook_landed_is_replayed_by_the_same_idempotency_key(
    wired_app: App,
) -> None:
    """The refund's webhook moved the refunded total before the retry: only the
    client's Idempotency-Key still names the same refund at the gateway."""
    app = wired_app
    payment = await app.open_intent(1000)
    assert payment.stripe_payment_intent_id is not None
    await app.gateway.confirm_payment_intent(payment.stripe_payment_intent_id, "4242424242424242")
    command = RefundPayment(payment.id, None, 400, None, idempotency_key="admin-req-1")
    app.gateway.fail_next("refund", after=True)
    with pytest.raises(GatewayUnavailable):
        await refund_payment(
            command, uow_factory=app.store.uow_factory, gateway=app.gateway, clock=app.clock
        )
    assert app.payment(payment.id).amount_refunded == 400  # the webhook landed
    result = await refund_payment(
        command, uow_factory=app.store.uow_factory, gateway=app.gateway, clock=app.clock
    )
    assert result.credits_reversed == 400
    assert gateway_refunded(app, payment) == 400
    assert app.balance(payment.user_id) == 600
    assert reversals(app, payment) == [-400]


async def test_an_admin_refund_of_spent_credits_records_debt(app: App) -> None:
    payment = await paid_checkout(app, 1000)
    async with app.store.uow() as uow:
        spend = Posting(payment.user_id, -1000, EntryKind.USAGE_DEBIT, "request", "r1", "use:r1")
        await uow.ledger.post(spend, T0)
        await uow.commit()
    result = await refund(app, payment)
    assert result.credits_reversed == 1000
    assert app.balance(payment.user_id) == -1000
    assert await app.mismatches() == []


# ---- sync_checkout_session / sync_payment_intent -------------------------------------------


async def sync_session(app: App, session_id: str, user_id: str) -> PaymentView:
    return await sync_checkout_session(
        session_id, user_id, uow_factory=app.store.uow_factory, gateway=app.gateway, clock=app.clock
    )


async def sync_intent(app: App, intent_id: str, user_id: str) -> PaymentView:
    return await sync_payment_intent(
        intent_id, user_id, uow_factory=app.store.uow_factory, gateway=app.gateway, clock=app.clock
    )


async def test_another_users_session_or_intent_is_not_found(app: App) -> None:
    """docs/failure-modes.md #8: the same answer as for an id that does not exist."""
    session = await app.open_checkout()
    intent = await app.open_intent()
    await app.pay(session)
    stranger = await app.user()
    assert session.stripe_session_id and intent.stripe_payment_intent_id
    with pytest.raises(NotFound) as other:
        await sync_session(app, session.stripe_session_id, stranger)
    with pytest.raises(NotFound) as unknown:
        await sync_session(app, "cs_test_nope", stranger)
    assert other.value.message == unknown.value.message
    with pytest.raises(NotFound):
        await sync_intent(app, intent.stripe_payment_intent_id, stranger)
    with pytest.raises(NotFound):
        await sync_intent(app, "pi_nope", stranger)
    # Polling someone else's paid session fulfils nothing.
    assert app.payment(session.id).status is PaymentStatus.PENDING
    assert app.entries() == []


async def test_an_open_session_is_reported_and_left_pending(app: App) -> None:
    payment = await app.open_checkout()
    assert payment.stripe_session_id is not None
    view = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert (view.gateway_status, view.paid_at_gateway) == ("open", False)
    assert view.payment.status is PaymentStatus.PENDING
    assert app.entries() == []


async def test_a_poll_fulfils_a_payment_whose_webhook_was_lost_once(app: App) -> None:
    payment = await app.open_checkout(1234, "eur")
    assert payment.stripe_session_id is not None
    lost = await app.pay(payment)  # deliver="never": paid at the gateway, webhooks lost

    view = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert (view.gateway_status, view.paid_at_gateway) == ("complete", True)
    assert view.payment.status is PaymentStatus.COMPLETED
    again = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert again.payment.status is PaymentStatus.COMPLETED

    assert await app.handle_all(lost) == [EventOutcome.NO_CHANGE, EventOutcome.NO_CHANGE]
    [entry] = app.purchase_entries(payment.id)
    assert (entry.idempotency_key, entry.credits) == (f"purchase:{payment.id}", 1332)
    assert app.balance(payment.user_id) == 1332
    assert await app.mismatches() == []


async def test_a_poll_learns_the_payment_intent(app: App) -> None:
    payment = await app.open_checkout()
    intent_id = payment.stripe_payment_intent_id
    assert payment.stripe_session_id is not None
    async with app.store.uow() as uow:  # as with Stripe: no PaymentIntent before payment
        unseen = await uow.payments.get(payment.id)
        assert unseen is not None
        unseen.stripe_payment_intent_id = None
        await uow.payments.save(unseen)
        await uow.commit()
    await app.pay(payment)
    view = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert view.payment.stripe_payment_intent_id == intent_id
    assert app.payment(payment.id).stripe_payment_intent_id == intent_id
    assert app.balance(payment.user_id) == 1000


async def test_a_poll_of_an_expired_session_expires_the_payment(app: App) -> None:
    payment = await app.open_checkout()
    assert payment.stripe_session_id is not None
    lost = await app.expire(payment)
    view = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert (view.gateway_status, view.paid_at_gateway) == ("expired", False)
    assert app.payment(payment.id).status is PaymentStatus.EXPIRED
    assert await app.handle_all(lost) == [EventOutcome.NO_CHANGE]


async def test_a_poll_during_a_gateway_outage_changes_nothing(app: App) -> None:
    payment = await app.open_checkout()
    assert payment.stripe_session_id is not None
    await app.pay(payment)
    app.gateway.fail_next("get_checkout")
    with pytest.raises(GatewayUnavailable):
        await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert app.payment(payment.id).status is PaymentStatus.PENDING
    view = await sync_session(app, payment.stripe_session_id, payment.user_id)
    assert view.payment.status is PaymentStatus.COMPLETED


async def test_a_payment_intent_poll_fulfils_once_and_returns_the_client_secret(app: App) -> None:
    payment = await app.open_intent(1000)
    intent_id = payment.stripe_payment_intent_id
    assert intent_id is not None

    waiting = await sync_intent(app, intent_id, payment.user_id)
    assert (waiting.gateway_status, waiting.paid_at_gateway) == ("requires_payment_method", False)
    assert waiting.client_secret and waiting.client_secret.startswith(intent_id)

    await app.pay(payment, CARD_3DS)
    action = await sync_intent(app, intent_id, payment.user_id)
    assert (action.gateway_status, action.payment.status) == (
        "requires_action",
        PaymentStatus.PENDING,
    )
    lost = await app.gateway.authenticate(intent_id, True, deliver="never")

    view = await sync_intent(app, intent_id, payment.user_id)
    assert (view.gateway_status, view.paid_at_gateway) == ("succeeded", True)
    assert view.payment.status is PaymentStatus.COMPLETED
    await sync_intent(app, intent_id, payment.user_id)
    assert [p["type"] for p in lost.payloads()] == ["payment_intent.succeeded"]
    assert await app.handle_all(events_of(lost)) == [EventOutcome.NO_CHANGE]
    assert len(app.purchase_entries(payment.id)) == 1
    assert app.balance(payment.user_id) == 1000


async def test_a_checkout_payment_may_be_polled_by_its_intent(app: App) -> None:
    payment = await app.open_checkout()
    assert payment.stripe_payment_intent_id is not None
    await app.pay(payment)
    view = await sync_intent(app, payment.stripe_payment_intent_id, payment.user_id)
    assert view.payment.status is PaymentStatus.COMPLETED
    assert app.balance(payment.user_id) == 1000
