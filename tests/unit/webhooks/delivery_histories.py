"""Histories with referrals, trials, coupons and expiries, for the delivery-order property.

``produce`` signs up a referrer and two referred users (one with trial credits, one
with a coupon's), then plays the payment plans at the gateway (events kept). A
history's deliveries may include ``EXPIRE``: the clock moves past every trial and
coupon and ``expire-credits`` runs. ``final_state`` reads, through the ports, what
must not depend on the order or number of deliveries. Works on any unit of work, so
the PostgreSQL test runs the same histories.
"""

from __future__ import annotations

from datetime import timedelta

from application.batch import NoControl
from application.credits.expire_credits import expire_credits
from application.ports import UnitOfWorkFactory
from application.webhooks.events import GatewayEvent
from application.webhooks.handling import EventNotReady
from domain.trial import TrialTerms
from tests.unit.conftest import T0, App
from tests.unit.refunds.refund_histories import redeem_coupon_worth
from tests.unit.rewards_helpers import sign_up

EXPIRE = "expire-credits"
EXPIRED_AT = T0 + timedelta(days=8)  # past the trial's 7 days and the coupon's 3


async def sign_ups(app: App) -> tuple[list[str], str]:
    """Two users referred by a third: the first has 500 trial credits, the second a
    300-credit coupon; both expire before ``EXPIRED_AT``."""
    referrer = (await sign_up(app)).user
    code = referrer.referral_code
    trial = TrialTerms(credits=500, days=7)
    first = (await sign_up(app, code=code, trial=trial)).user.id
    second = (await sign_up(app, code=code)).user.id
    await redeem_coupon_worth(app, second, 300, days=3)
    return [first, second], referrer.id


async def deliver(app: App, queue: list[GatewayEvent | str]) -> None:
    """Deliver as the gateway does (a not-ready event goes to the back of the queue);
    ``EXPIRE`` moves the clock to ``EXPIRED_AT`` (once) and expires credits."""
    budget = 20 * len(queue) + 20
    while queue:
        budget -= 1
        assert budget > 0, "events were never applied"
        item = queue.pop(0)
        if isinstance(item, str):
            if app.clock.now() < EXPIRED_AT:
                app.clock.advance(EXPIRED_AT - app.clock.now())
            await expire_credits(
                uow_factory=app.store.uow_factory,
                clock=app.clock,
                batch_size=100,
                control=NoControl(),
            )
            continue
        try:
            await app.handle(item)
        except EventNotReady:
            queue.append(item)


async def final_state(
    factory: UnitOfWorkFactory, users: list[str], payment_ids: list[str]
) -> dict[str, object]:
    """Balances, open lots, referrals and the referrer's uses, payments and refunds.

    Not entry ids, keys or times, by nature: a refund reported failed first reverses
    nothing, seen first it reverses and is restored (the lots end the same).
    """
    async with factory() as uow:
        state: dict[str, object] = {"mismatches": list(await uow.audit.verify())}
        for user_id in users:
            account = await uow.ledger.account(user_id)
            lots = await uow.lots.open_lots(user_id)
            referral = await uow.referrals.get(user_id)
            state[user_id] = (
                None if account is None else account.balance,
                sorted((lot.kind, lot.remaining, lot.expires_at) for lot in lots),
                None if referral is None else (referral.status, referral.payment_id),
                await uow.referrals.uses(user_id),
            )
        for payment_id in payment_ids:
            payment = await uow.payments.get(payment_id)
            assert payment is not None
            refunds = await uow.refunds.for_payment(payment_id)
            state[payment_id] = (
                payment.status,
                payment.amount_refunded,
                payment.credits_reversed,
                sorted((r.refund_id, r.status) for r in refunds),
            )
    return state
