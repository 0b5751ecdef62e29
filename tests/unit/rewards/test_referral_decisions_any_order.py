"""A referral ends in the same state whatever order its payments' events arrive in.

Two rules make it so (docs/failure-modes.md #10 keeps them strict):

- The referral is decided by the referred user's *first* purchase: the completed
  payment opened first (our payment row's ``created_at``, ties by id), not the one
  fulfilled first. A payment opened earlier but fulfilled later revisits the decision:
  the bonuses are granted, or taken back, as if it had been fulfilled first.
- The bonuses stand exactly while that purchase keeps at least the minimum: a refund
  reported ``pending`` and then ``failed`` takes them back and gives them back, as a
  ``failed`` report seen first (which reverses nothing) leaves them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.payment import Payment
from domain.referral import ReferralStatus
from tests.unit.conftest import App, make_app
from tests.unit.refunds.refund_histories import fail_at_gateway
from tests.unit.rewards_helpers import sign_up


async def opened(app: App, user_id: str, amount: int) -> Payment:
    app.clock.advance(timedelta(seconds=1))
    created = await app.checkout(user_id, amount, "usd")
    return app.payment(created.payment_id)


def state(app: App, friend: str, referrer: str) -> tuple[object, ...]:
    """Both balances, the referral's status, the referrer's uses, and the amount of
    the payment that decided the referral."""
    referral = app.store.state.rewards.referrals[friend]
    uses = app.store.state.rewards.referral_uses.get(referrer, 0)
    decided_by = app.payment(referral.payment_id).amount if referral.payment_id else None
    return (app.balance(friend), app.balance(referrer), referral.status, uses, decided_by)


async def two_purchases(first: int, second: int, fulfil_second_first: bool) -> tuple[object, ...]:
    app = make_app()
    referrer = (await sign_up(app)).user
    friend = (await sign_up(app, code=referrer.referral_code)).user
    payments = [await opened(app, friend.id, first), await opened(app, friend.id, second)]
    if fulfil_second_first:
        payments.reverse()
    for payment in payments:
        await app.handle_all(await app.pay(payment))
    assert await app.mismatches() == []
    return state(app, friend.id, referrer.id)


@pytest.mark.parametrize(("first", "second"), [(2000, 500), (500, 2000)])
async def test_the_purchase_opened_first_decides_whichever_is_fulfilled_first(
    first: int, second: int
) -> None:
    in_order = await two_purchases(first, second, fulfil_second_first=False)
    reordered = await two_purchases(first, second, fulfil_second_first=True)
    assert reordered == in_order
    assert in_order[3:] == ((1, first) if first >= 1000 else (0, first))
    rewarded = first >= 1000
    assert in_order[2] is (ReferralStatus.REWARDED if rewarded else ReferralStatus.INELIGIBLE)
    assert in_order[:2] == ((2500 + 1000, 1000) if rewarded else (2500, 0))


async def refund_that_fails(pending_first: bool) -> tuple[object, ...]:
    app = make_app()
    referrer = (await sign_up(app)).user
    friend = (await sign_up(app, code=referrer.referral_code)).user
    payment = await opened(app, friend.id, 1000)
    await app.handle_all(await app.pay(payment))
    made, reported = await app.refund_at_gateway(app.payment(payment.id), 1000)
    failure = await fail_at_gateway(app, made)
    for event in [*reported, failure] if pending_first else [failure, *reported]:
        await app.handle(event)
    assert await app.mismatches() == []
    return state(app, friend.id, referrer.id)


async def test_a_refund_reported_pending_then_failed_leaves_the_bonuses_as_failed_first() -> None:
    failed_first = await refund_that_fails(pending_first=False)
    pending_first = await refund_that_fails(pending_first=True)
    assert failed_first[:3] == (2000, 1000, ReferralStatus.REWARDED)
    assert pending_first == failed_first


async def test_bonuses_given_back_are_taken_back_again_by_a_later_refund(app: App) -> None:
    referrer = (await sign_up(app)).user
    friend = (await sign_up(app, code=referrer.referral_code)).user
    payment = await opened(app, friend.id, 1000)
    await app.handle_all(await app.pay(payment))
    made, reported = await app.refund_at_gateway(app.payment(payment.id), 1000)
    await app.handle_all(reported)
    await app.handle(await fail_at_gateway(app, made))
    _, again = await app.refund_at_gateway(app.payment(payment.id), 1000)
    await app.handle_all(again)

    assert state(app, friend.id, referrer.id)[:3] == (0, 0, ReferralStatus.REVERSED)
    assert await app.mismatches() == []
