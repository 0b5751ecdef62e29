"""A refund that failed at the gateway leaves the credits exactly as if it never happened.

The history of the issue: a user holds expiring credits (a trial, a coupon) and buys
$10; a 600-credit refund is reversed and then reported failed; later the purchase is
refunded in full and the expiring credits expire. The history with the failed refund
must end exactly where the history without it ends: same balance, same lots. The
restored credits go back to the lots the reversal took them from (the purchase's own
lot first), so they keep those lots' expiry and a later refund finds them where it
would have.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.batch import NoControl
from application.credits.expire_credits import expire_credits
from application.refunds.gateway import GatewayRefund
from domain.ledger import EntryKind, Posting
from domain.trial import TrialTerms
from tests.unit.conftest import App, make_app
from tests.unit.refunds.refund_histories import fail_at_gateway, open_lots, redeem_coupon_worth
from tests.unit.rewards_helpers import buy, refund, sign_up


async def fail(app: App, refund_: GatewayRefund) -> None:
    await app.handle(await fail_at_gateway(app, refund_))


async def expire(app: App) -> None:
    await expire_credits(
        uow_factory=app.store.uow_factory, clock=app.clock, batch_size=100, control=NoControl()
    )


async def history(expiring: str, *, with_failed_refund: bool) -> tuple[int, list[object]]:
    """Expiring credits, a $10 purchase, maybe a failed 600 refund, a full refund, expiry."""
    app = make_app()
    trial = TrialTerms(credits=500, days=7) if expiring == "trial" else None
    user = (await sign_up(app, trial=trial)).user.id
    if expiring == "coupon":
        await redeem_coupon_worth(app, user, 500, days=7)
    payment = await buy(app, user, 1000)
    if with_failed_refund:
        made, events = await app.refund_at_gateway(payment, 600)
        await app.handle_all(events)
        assert app.balance(user) == 900
        await fail(app, made)
        assert app.balance(user) == 1500
    await refund(app, app.payment(payment.id), 1000)
    app.clock.advance(timedelta(days=8))
    await expire(app)
    assert await app.mismatches() == []
    return app.balance(user), await open_lots(app, user)


@pytest.mark.parametrize("expiring", ["trial", "coupon"])
async def test_a_failed_refund_does_not_make_expiring_credits_permanent(expiring: str) -> None:
    without = await history(expiring, with_failed_refund=False)
    with_failed = await history(expiring, with_failed_refund=True)
    assert without == (0, [])
    assert with_failed == without


async def spent_then_coupon(*, with_failed_refund: bool, fails_after_days: int) -> list[object]:
    """$10 bought and spent, then a 500-credit coupon for 7 days: a 600 refund takes the
    coupon's 500 and leaves 100 of debt, and fails ``fails_after_days`` later."""
    app = make_app()
    user = (await sign_up(app)).user.id
    payment = await buy(app, user, 1000)
    async with app.store.uow() as uow:
        spend = Posting(user, -1000, EntryKind.USAGE_DEBIT, "request", "r1", "use:r1")
        await uow.ledger.post(spend, app.clock.now())
        await uow.commit()
    await redeem_coupon_worth(app, user, 500, days=7)
    made = None
    if with_failed_refund:
        made, events = await app.refund_at_gateway(payment, 600)
        await app.handle_all(events)
        assert app.balance(user) == -100
    app.clock.advance(timedelta(days=fails_after_days))
    await expire(app)
    if made is not None:
        await fail(app, made)
    seen = [app.balance(user), await open_lots(app, user)]
    app.clock.advance(timedelta(days=8))
    await expire(app)
    assert await app.mismatches() == []
    return [*seen, app.balance(user), await open_lots(app, user)]


@pytest.mark.parametrize("fails_after_days", [1, 8])
async def test_credits_a_failed_refund_took_from_an_expiring_lot_keep_its_expiry(
    fails_after_days: int,
) -> None:
    """Given back before the lot expires they keep its expiry; after it, they are gone
    as they would have been."""
    without = await spent_then_coupon(with_failed_refund=False, fails_after_days=fails_after_days)
    failed = await spent_then_coupon(with_failed_refund=True, fails_after_days=fails_after_days)
    assert failed == without
    assert without[-2:] == [0, []]
