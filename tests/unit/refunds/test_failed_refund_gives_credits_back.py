"""A refund that fails at the gateway after its credits were reversed gives them back.

Stripe reports a failed or canceled refund by ``refund.updated``,
``charge.refund.updated``, ``refund.failed`` or a ``charge.refunded`` listing it so;
whichever arrives, and in whatever order with the refund's earlier reports, the
credits come back exactly once and the payment returns to where the refunds that
still stand put it. Assertions are on committed state only.
"""

from __future__ import annotations

import pytest

from application.refunds.gateway import GatewayRefund, RefundStatus
from application.webhooks.events import GatewayEvent
from application.webhooks.handling import EventOutcome
from domain.errors import InsufficientCredits
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentStatus
from domain.referral import ReferralStatus
from tests.unit.conftest import T0, App, charge_object, refund_object, stripe_event
from tests.unit.rewards_helpers import buy, sign_up


def report(
    payment: Payment, refund_id: str, amount: int, status: str, how: str = "refund.updated"
) -> GatewayEvent:
    """The gateway reporting one refund of ``payment`` with ``status``."""
    refund = GatewayRefund(
        refund_id, payment.stripe_payment_intent_id, amount, payment.currency, RefundStatus(status)
    )
    if how == "charge.refunded":
        return stripe_event(how, charge_object(payment, [refund]))
    return stripe_event(how, refund_object(refund))


async def paid(app: App, amount: int = 1000) -> Payment:
    payment = await app.open_checkout(amount)
    await app.handle_all(await app.pay(payment))
    return app.payment(payment.id)


def ledger_of(app: App, payment: Payment) -> list[tuple[str, str, int]]:
    return [(e.kind, e.idempotency_key, e.credits) for e in app.entries(payment.user_id)]


@pytest.mark.parametrize(
    "how", ["refund.updated", "charge.refund.updated", "refund.failed", "charge.refunded"]
)
async def test_a_pending_refund_that_fails_gives_its_credits_back_once(app: App, how: str) -> None:
    payment = await paid(app)
    assert await app.handle(report(payment, "re_1", 400, "pending")) == EventOutcome.UPDATED
    assert app.balance(payment.user_id) == 600

    assert await app.handle(report(payment, "re_1", 400, "failed", how)) == EventOutcome.UPDATED
    again = [report(payment, "re_1", 400, "failed"), report(payment, "re_1", 400, "pending")]
    assert await app.handle_all(again) == [EventOutcome.NO_CHANGE] * 2

    stored = app.payment(payment.id)
    assert (stored.status, stored.amount_refunded, stored.credits_reversed) == (
        PaymentStatus.COMPLETED,
        0,
        0,
    )
    assert app.balance(payment.user_id) == 1000
    assert ledger_of(app, payment) == [
        (EntryKind.PURCHASE, f"purchase:{payment.id}", 1000),
        (EntryKind.REFUND_REVERSAL, f"refund:{payment.id}:re_1", -400),
        (EntryKind.REFUND_RESTORE, f"refund_restored:{payment.id}:re_1", 400),
    ]
    recorded = app.store.state.refunds["re_1"]
    assert (recorded.status, recorded.credits_reversed) == ("failed", 400)
    assert await app.mismatches() == []


@pytest.mark.parametrize("status", ["failed", "canceled"])
async def test_a_failure_seen_first_is_recorded_so_the_stale_pending_report_does_nothing(
    app: App, status: str
) -> None:
    payment = await paid(app)
    assert await app.handle(report(payment, "re_1", 400, status)) == EventOutcome.NO_CHANGE
    assert await app.handle(report(payment, "re_1", 400, "pending")) == EventOutcome.NO_CHANGE
    assert await app.handle(report(payment, "re_1", 400, "succeeded")) == EventOutcome.NO_CHANGE

    recorded = app.store.state.refunds["re_1"]
    assert (recorded.status, recorded.credits_reversed) == (status, 0)
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert ledger_of(app, payment) == [(EntryKind.PURCHASE, f"purchase:{payment.id}", 1000)]


async def test_a_failed_refund_beside_one_that_stands_leaves_the_payment_partially_refunded(
    app: App,
) -> None:
    payment = await paid(app)
    await app.handle(report(payment, "re_1", 300, "succeeded"))
    await app.handle(report(payment, "re_2", 700, "pending"))
    assert app.payment(payment.id).status is PaymentStatus.REFUNDED

    assert await app.handle(report(payment, "re_2", 700, "canceled")) == EventOutcome.UPDATED

    stored = app.payment(payment.id)
    assert (stored.status, stored.amount_refunded, stored.credits_reversed) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        300,
        300,
    )
    assert app.balance(payment.user_id) == 700
    assert app.store.state.refunds["re_1"].status == "succeeded"


async def test_restored_credits_repay_the_refunds_debt_first_and_the_rest_is_spendable(
    app: App,
) -> None:
    payment = await paid(app)
    async with app.store.uow() as uow:
        spend = Posting(payment.user_id, -300, EntryKind.USAGE_DEBIT, "request", "r1", "use:r1")
        await uow.ledger.post(spend, T0)
        await uow.commit()
    await app.handle(report(payment, "re_1", 1000, "pending"))
    assert app.balance(payment.user_id) == -300

    await app.handle(report(payment, "re_1", 1000, "failed"))

    assert app.balance(payment.user_id) == 700
    async with app.store.uow() as uow:
        lots = {
            lot.idempotency_key: lot.remaining for lot in await uow.lots.open_lots(payment.user_id)
        }
        # The 700 the reversal took from the purchase's lot go back to it; its 300 of
        # debt repaid the debt.
        assert lots == {f"purchase:{payment.id}": 700}
        with pytest.raises(InsufficientCredits):
            await uow.ledger.post(
                Posting(payment.user_id, -701, EntryKind.USAGE_DEBIT, "request", "r2", "use:r2"), T0
            )
    assert await app.mismatches() == []


async def test_a_pending_refund_that_succeeds_is_recorded_as_succeeded(app: App) -> None:
    payment = await paid(app)
    await app.handle(report(payment, "re_1", 400, "pending"))
    assert app.store.state.refunds["re_1"].status == "pending"

    assert await app.handle(report(payment, "re_1", 400, "succeeded")) == EventOutcome.NO_CHANGE
    await app.handle(report(payment, "re_1", 400, "pending"))  # older news

    assert app.store.state.refunds["re_1"].status == "succeeded"
    assert app.balance(payment.user_id) == 600


async def test_referral_bonuses_a_failed_refund_reversed_come_back(app: App) -> None:
    """As when the failure is reported before the refund (nothing reversed at all)."""
    referrer = await sign_up(app)
    friend = await sign_up(app, code=referrer.user.referral_code)
    payment = await buy(app, friend.user.id, 1000)
    assert (app.balance(friend.user.id), app.balance(referrer.user.id)) == (2000, 1000)
    refund, events = await app.refund_at_gateway(payment, 1000)
    await app.handle_all(events)

    await app.handle(report(payment, refund.refund_id, 1000, "failed", "refund.failed"))

    assert (app.balance(friend.user.id), app.balance(referrer.user.id)) == (2000, 1000)
    referral = app.store.state.rewards.referrals[friend.user.id]
    assert (referral.status, referral.reversals) == (ReferralStatus.REWARDED, 1)
    assert app.payment(payment.id).status is PaymentStatus.COMPLETED
    assert await app.mismatches() == []
