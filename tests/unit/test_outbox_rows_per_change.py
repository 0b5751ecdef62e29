"""The rows each use case writes to the outbox (memory adapters; the contract test
runs purchases and refunds on every adapter)."""

from __future__ import annotations

from datetime import timedelta

from application.batch import NoControl
from application.credits.expire_credits import expire_credits
from application.outbox import OutboxMessage
from application.rewards.coupon_admin import create_coupon
from application.rewards.coupons import redeem_coupon
from domain.coupon import CouponTerms
from domain.ledger import EntryKind
from domain.trial import TrialTerms
from tests.unit.conftest import CARD_NO_FUNDS, App
from tests.unit.rewards_helpers import buy, refund, sign_up


def messages(app: App, type_: str | None = None) -> list[OutboxMessage]:
    found = app.store.state.outbox.values()
    return sorted(
        (m for m in found if type_ in (None, m.type)), key=lambda m: (m.occurred_at, m.type)
    )


async def test_a_redemption_writes_the_coupon_and_its_grant(app: App) -> None:
    coupon = await create_coupon(
        "welcome", CouponTerms(credits=500), uow_factory=app.store.uow_factory, clock=app.clock
    )
    user = (await sign_up(app)).user.id

    await redeem_coupon(user, "WELCOME", uow_factory=app.store.uow_factory, clock=app.clock)

    assert [(m.type, m.user_id) for m in messages(app)] == [
        ("coupon.redeemed", user),
        ("credits.granted", user),
    ]
    (redeemed,) = messages(app, "coupon.redeemed")
    assert (redeemed.payload["coupon_id"], redeemed.payload["credits"]) == (coupon.id, 500)


async def test_each_expired_lot_writes_one_row_and_a_rerun_none(app: App) -> None:
    user = (await sign_up(app, trial=TrialTerms(credits=300, days=7))).user.id
    app.clock.advance(timedelta(days=8))

    for _ in range(2):
        await expire_credits(
            uow_factory=app.store.uow_factory, clock=app.clock, batch_size=10, control=NoControl()
        )

    (expired,) = messages(app, "credits.expired")
    assert (expired.user_id, expired.payload["credits"], expired.payload["balance_after"]) == (
        user,
        300,
        0,
    )


async def test_a_declined_and_an_expired_checkout_each_write_their_closing(app: App) -> None:
    declined = await app.open_checkout()
    await app.handle_all(await app.pay(declined, CARD_NO_FUNDS))
    expired = await app.open_checkout()
    await app.handle_all(await app.expire(expired))

    closings = {m.payload["payment_id"]: m for m in messages(app, "payment.closed")}
    assert closings[declined.id].payload["status"] == "failed"
    assert closings[declined.id].payload["reason"] is not None
    assert closings[expired.id].payload["status"] == "expired"
    assert len(closings) == 2


async def test_a_bonus_reversal_is_its_own_entry_kind_and_its_own_row(app: App) -> None:
    referrer = (await sign_up(app)).user
    assert referrer.referral_code is not None
    buyer = (await sign_up(app, code=referrer.referral_code)).user
    payment = await buy(app, buyer.id, 1000)

    await refund(app, payment, 1000)

    reversals = [e for e in app.entries() if e.kind is EntryKind.BONUS_REVERSAL]
    assert sorted((e.user_id, e.credits) for e in reversals) == sorted(
        [(buyer.id, -1000), (referrer.id, -1000)]
    )
    (reversed_,) = messages(app, "referral.reversed")
    assert (reversed_.user_id, reversed_.payload["referred_user_id"]) == (referrer.id, buyer.id)
