"""Every change that lowers available credits decides the alerts in its own
transaction, not only spending: an operator's debit, a refund (of a purchase, of an
invoice, of a referral's qualifying purchase), a lost dispute, an expiry. Each crossing
fires once, however often its cause is delivered. Only spending and expiry request an
auto top-up: a reversal or an operator's correction never charges the card, and a
dispute opened turns auto top-up off."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from application.admin.adjust_credits import adjust_credits
from application.alerts.settings import update_alert_settings
from application.batch import NoControl
from application.bootstrap import LOWERING
from application.credits.expire_credits import expire_credits
from application.outbox import OutboxMessage
from application.spending.capture_hold import capture_hold
from application.spending.debit import debit
from application.spending.place_hold import place_hold
from domain.admin import Adjustment, AdjustmentLimits
from domain.auto_top_up import AutoTopUpSettings, TopUpStatus
from domain.spending import Debit
from domain.trial import TrialTerms
from tests.unit.conftest import App, stripe_event
from tests.unit.rewards_helpers import buy, refund, sign_up
from tests.unit.subscriptions.world import PLUS, World

THRESHOLD = 500


def fired(outbox: Mapping[str, OutboxMessage], type_: str) -> list[dict[str, object]]:
    found = sorted((m for m in outbox.values() if m.type == type_), key=lambda m: m.occurred_at)
    return [{"user_id": m.user_id, **m.payload} for m in found]


def alerts(app: App, type_: str) -> list[dict[str, object]]:
    return fired(app.store.state.outbox, type_)


def requested(app: App, user: str) -> list[TopUpStatus]:
    return [t.status for t in app.store.state.auto_top_ups.values() if t.user_id == user]


async def watch(app: App | World, user: str, threshold: int = THRESHOLD) -> None:
    """A low-balance alert and an auto top-up, both at ``threshold``."""
    factory, clock = app.store.uow_factory, app.clock
    alert = {"low_balance_threshold": threshold}
    await update_alert_settings(user, alert, uow_factory=factory, clock=clock)
    top_up = AutoTopUpSettings(True, threshold_credits=threshold, amount=1000, monthly_limit=5000)
    async with factory() as uow:
        await uow.auto_top_ups.save_settings(user, top_up, clock.now())
        await uow.commit()


async def adjust(app: App, user: str, credits: int, key: str) -> None:
    await adjust_credits(
        Adjustment(user, credits, "support correction", key),
        "admin_key_1",
        limits=AdjustmentLimits(),
        uow_factory=app.store.uow_factory,
        clock=app.clock,
    )


def crossed_once(app: App, user: str, cause: str, *, tops_up: bool) -> None:
    (low,) = alerts(app, "credits.low_balance")
    assert (low["user_id"], low["threshold"]) == (user, THRESHOLD)
    assert str(low["cause"]).startswith(cause)
    if not tops_up:
        assert alerts(app, "auto_top_up.requested") == [] and requested(app, user) == []
        return
    (top_up,) = alerts(app, "auto_top_up.requested")
    assert top_up["user_id"] == user and top_up["amount"] == 1000
    assert requested(app, user) == [TopUpStatus.REQUESTED]


async def test_an_operators_debit_crosses_once_and_a_replay_changes_nothing(app: App) -> None:
    user = await app.user()
    await buy(app, user, 1000)
    await watch(app, user)

    await adjust(app, user, -600, "take-back-1")
    await adjust(app, user, -600, "take-back-1")  # the same adjustment, replayed

    crossed_once(app, user, "credits.adjusted:", tops_up=False)
    assert app.store.state.accounts[user].available == 400


async def test_an_operators_grant_re_arms_the_alert(app: App) -> None:
    user = await app.user()
    await buy(app, user, 1000)
    await watch(app, user)

    await adjust(app, user, -600, "down-1")
    await adjust(app, user, 600, "up-1")
    await adjust(app, user, -600, "down-2")

    assert len(alerts(app, "credits.low_balance")) == 2
    assert requested(app, user) == []  # an operator's correction never charges the card


async def test_a_refund_webhook_crosses_once_however_often_it_is_delivered(app: App) -> None:
    user = await app.user()
    payment = await buy(app, user, 1000)
    await watch(app, user)

    _, events = await app.refund_at_gateway(payment, 600)
    await app.handle_all(events)  # charge.refunded and refund.created: one refund
    await app.handle_all(events)  # delivered again

    crossed_once(app, user, "credits.reversed:refund:", tops_up=False)
    (reversed_,) = alerts(app, "credits.reversed")
    assert (reversed_["credits"], reversed_["kind"]) == (600, "refund_reversal")


async def test_a_referrers_bonus_taken_back_by_a_refund_crosses_for_the_referrer(
    app: App,
) -> None:
    referrer = (await sign_up(app)).user
    assert referrer.referral_code is not None
    buyer = (await sign_up(app, code=referrer.referral_code)).user
    payment = await buy(app, buyer.id, 1000)
    assert app.store.state.accounts[referrer.id].available == 1000  # the bonus
    await watch(app, referrer.id)

    await refund(app, payment, 1000)

    lows = alerts(app, "credits.low_balance")
    assert [low["user_id"] for low in lows] == [referrer.id]
    assert requested(app, referrer.id) == []


async def test_a_lost_dispute_crosses_once_however_often_it_is_delivered(app: App) -> None:
    user = await app.user()
    disputed = await buy(app, user, 1000)
    await debit(Debit(user, 1000, "spent"), uow_factory=app.store.uow_factory, clock=app.clock)
    await buy(app, user, 1000)  # the disputed purchase's own credits are spent: no hold
    await watch(app, user)
    obj = {"id": "du_1", "object": "dispute", "payment_intent": disputed.stripe_payment_intent_id}

    for opening in (
        "charge.dispute.created",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ):
        await app.handle(stripe_event(opening, {**obj, "status": "needs_response"}))
    assert alerts(app, "credits.low_balance") == []
    (disabled,) = alerts(app, "auto_top_up.disabled")  # once, however often it is told
    assert (disabled["reason"], disabled["dispute_id"]) == ("dispute_opened", "du_1")
    assert app.store.state.auto_top_up_settings[user].enabled is False
    for _ in range(2):  # a redelivery, under a new event id
        await app.handle(stripe_event("charge.dispute.closed", {**obj, "status": "lost"}))

    crossed_once(app, user, "credits.reversed:dispute:", tops_up=False)
    depleted = [d for d in alerts(app, "credits.depleted") if "dispute" in str(d["cause"])]
    assert [d["available"] for d in depleted] == [0]


async def test_an_expiry_crosses_once_and_a_rerun_changes_nothing(app: App) -> None:
    user = (await sign_up(app, trial=TrialTerms(credits=1000, days=7))).user.id
    await watch(app, user)
    app.clock.advance(timedelta(days=8))

    for _ in range(2):
        await expire_credits(
            uow_factory=app.store.uow_factory, clock=app.clock, batch_size=10, control=NoControl()
        )

    crossed_once(app, user, "credits.expired:", tops_up=True)


async def test_a_refunded_subscription_invoice_crosses_once() -> None:
    world = World()
    user = await world.user()
    await world.subscribe(user, PLUS)
    await world.apply(world.new_events())
    assert await world.balance(user) == 2500
    await watch(world, user, 2000)
    [invoice] = [p["data"]["object"] for p in world.payloads() if p["type"] == "invoice.paid"]

    await world.gateway.refund_invoice(invoice["id"], 1000, "never")
    refunded = world.new_events()
    await world.apply(refunded)
    await world.apply(refunded)

    (low,) = fired(world.store.state.outbox, "credits.low_balance")
    assert (low["user_id"], low["available"]) == (user, 1250)
    assert fired(world.store.state.outbox, "auto_top_up.requested") == []


async def test_every_entry_is_told_once_and_every_fall_by_an_event_that_decides(
    app: App,
) -> None:
    """Each ledger entry is one ``credits.*`` fact (by its entry id); the entries that
    lowered the balance are told by events whose follow-up decides (``LOWERING``, or an
    operator's adjustment)."""
    referrer = (await sign_up(app)).user
    assert referrer.referral_code is not None
    buyer = (await sign_up(app, code=referrer.referral_code, trial=TrialTerms(1000, 7))).user.id
    refunded, disputed = await buy(app, buyer, 1000), await buy(app, buyer, 2000)
    factory, clock = app.store.uow_factory, app.clock
    await debit(Debit(buyer, 100, "use"), uow_factory=factory, clock=clock)
    hold = await place_hold(buyer, 200, "hold-1", 60, uow_factory=factory, clock=clock)
    await capture_hold(hold.id, 150, uow_factory=factory, clock=clock)
    await adjust(app, buyer, 50, "up-1")
    await adjust(app, buyer, -50, "down-1")
    await refund(app, refunded, 1000)  # its referral bonuses are taken back too
    obj = {"id": "du_2", "object": "dispute", "payment_intent": disputed.stripe_payment_intent_id}
    await app.handle(stripe_event("charge.dispute.closed", {**obj, "status": "lost"}))
    app.clock.advance(timedelta(days=8))
    await expire_credits(uow_factory=factory, clock=clock, batch_size=10, control=NoControl())

    told: dict[int, list[str]] = {}
    for message in app.store.state.outbox.values():
        if message.type.startswith("credits.") and "entry_id" in message.payload:
            told.setdefault(int(str(message.payload["entry_id"])), []).append(message.type)
    entries = app.entries()
    assert {e.kind.value for e in entries if e.credits < 0} == {
        "usage_debit", "hold_capture", "admin_adjustment", "refund_reversal",
        "bonus_reversal", "dispute_reversal", "expiry",
    }  # fmt: skip
    assert {e.id: len(told.get(e.id, [])) for e in entries} == {e.id: 1 for e in entries}
    deciding = {event.type for event in LOWERING} | {"credits.adjusted"}
    assert {told[e.id][0] for e in entries if e.credits < 0} <= deciding


async def test_a_dispute_hold_alerts_but_never_charges_the_card(app: App) -> None:
    """The disputed purchase's credits are still there: the dispute holds them, which
    lowers available credits, but the customer contesting a charge is not charged."""
    user = await app.user()
    disputed = await buy(app, user, 1000)
    await watch(app, user)
    obj = {"id": "du_3", "object": "dispute", "payment_intent": disputed.stripe_payment_intent_id}

    await app.handle(stripe_event("charge.dispute.created", {**obj, "status": "needs_response"}))

    assert app.store.state.accounts[user].available == 0
    assert [low["user_id"] for low in alerts(app, "credits.low_balance")] == [user]
    assert requested(app, user) == [] and alerts(app, "auto_top_up.requested") == []
    assert [d["reason"] for d in alerts(app, "auto_top_up.disabled")] == ["dispute_opened"]


async def test_a_spending_hold_may_request_a_top_up(app: App) -> None:
    user = await app.user()
    await buy(app, user, 1000)
    await watch(app, user)
    factory, clock = app.store.uow_factory, app.clock

    await place_hold(user, 600, "hold-a", 60, uow_factory=factory, clock=clock)

    crossed_once(app, user, "hold.placed:", tops_up=True)
