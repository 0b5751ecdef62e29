"""A saved card whose bank wants the user (4000 0027 6000 3184 off-session): the charge is
canceled, the user gets a hosted Checkout for the same top-up, and paying it completes
the top-up once; letting it expire ends the top-up. Every step survives a worker that
dies or loses an answer, and a payment that arrives before the worker recorded the link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.memory.gateway import MemoryGateway
from adapters.sandbox.records import SessionRecord
from application.auto_top_up.run import LEASE
from application.batch import NoControl
from application.purchases.gateway import CheckoutStatus, IntentStatus, PaymentIntentState
from application.reconciliation.expire_stale_sessions import SweepPolicy, expire_stale_sessions
from domain.auto_top_up import ACTION_LINK_LIFETIME, AutoTopUp, TopUpStatus
from domain.payment import PaymentKind, PaymentStatus
from tests.unit.auto_top_up.helpers import (
    AUTHENTICATES,
    OK,
    available,
    customer_with,
    outbox,
    run,
    spend,
    work,
)
from tests.unit.conftest import App, events_of, make_app


def top_ups(app: App, user: str) -> list[AutoTopUp]:
    mine = (t for t in app.store.state.auto_top_ups.values() if t.user_id == user)
    return sorted(mine, key=lambda t: (t.created_at, t.id))


def top_up_sessions(app: App) -> list[SessionRecord]:
    """The Checkout Sessions the gateway holds for top-ups."""
    return [s for s in app.sandbox_store.sessions() if "auto_top_up_id" in s.metadata]


async def asked_to_authenticate(app: App) -> tuple[str, str]:
    """A user whose debit crossed the threshold and whose card needs them: the worker ran."""
    user = await customer_with(app, AUTHENTICATES)
    await spend(app, user, available(app, user) - 1, "a")
    assert await work(app) == 1
    (session,) = top_up_sessions(app)
    return user, session.id


async def pay_link(app: App, session_id: str, card: str = OK) -> None:
    """The user opens the link and pays; the gateway's events reach the webhook."""
    await app.handle_all(events_of(await app.gateway.pay_checkout(session_id, card, "never")))


async def test_the_user_gets_a_checkout_for_the_same_top_up(app: App) -> None:
    user, session_id = await asked_to_authenticate(app)

    (action,) = outbox(app, "auto_top_up.action_required")
    (top_up,) = top_ups(app, user)
    assert action["url"] == f"http://testserver/sandbox/checkout/{session_id}"
    assert action["top_up_id"] == top_up.id and action["payment_id"] == top_up.checkout_payment_id
    assert (
        datetime.fromisoformat(str(action["expires_at"])) == app.clock.now() + ACTION_LINK_LIFETIME
    )
    assert top_up.status is TopUpStatus.ACTION_REQUIRED and top_up.action_url == action["url"]
    session = app.sandbox_store.session(session_id)
    assert (session.amount, session.currency) == (1000, "usd")
    assert session.customer_id == await app.customer(user)
    assert session.metadata["auto_top_up_id"] == top_up.id
    checkout = app.payment(str(action["payment_id"]))
    assert (checkout.kind, checkout.status) == (PaymentKind.CHECKOUT, PaymentStatus.PENDING)
    assert (checkout.amount, checkout.credits, checkout.stripe_session_id) == (
        1000,
        1000,
        session_id,
    )
    assert available(app, user) == 1  # nothing granted yet


async def test_the_charge_that_asked_can_never_be_taken(app: App) -> None:
    user, _ = await asked_to_authenticate(app)

    (top_up,) = top_ups(app, user)
    assert top_up.payment_id is not None
    charge = app.payment(top_up.payment_id)
    assert charge.status is PaymentStatus.CANCELED
    assert charge.stripe_payment_intent_id is not None
    intent = app.sandbox_store.intent(charge.stripe_payment_intent_id)
    assert intent.status is IntentStatus.CANCELED
    assert app.purchase_entries(charge.id) == []


async def test_paying_the_link_completes_the_top_up_once(app: App) -> None:
    user, session_id = await asked_to_authenticate(app)
    events = events_of(await app.gateway.pay_checkout(session_id, OK, "never"))

    await app.handle_all(events)
    await app.handle_all(events)  # redelivered
    await app.handle_all(list(reversed(events)))

    (top_up,) = top_ups(app, user)
    assert top_up.status is TopUpStatus.SUCCEEDED and top_up.action_url is None
    assert top_up.checkout_payment_id is not None
    assert available(app, user) == 1 + 1000
    assert len(app.purchase_entries(top_up.checkout_payment_id)) == 1
    (succeeded,) = outbox(app, "auto_top_up.succeeded")
    assert succeeded["payment_id"] == top_up.checkout_payment_id
    assert (succeeded["amount"], succeeded["credits"]) == (1000, 1000)
    assert app.payment(top_up.checkout_payment_id).status is PaymentStatus.COMPLETED
    assert await work(app) == 0
    assert await app.mismatches() == []


async def test_paying_the_link_resets_the_failures_in_a_row(app: App) -> None:
    user, session_id = await asked_to_authenticate(app)
    assert app.store.state.auto_top_up_settings[user].failures == 1

    await pay_link(app, session_id)

    assert app.store.state.auto_top_up_settings[user].failures == 0


async def test_while_the_user_has_not_paid_no_second_top_up_is_requested(app: App) -> None:
    user, _ = await asked_to_authenticate(app)

    await spend(app, user, available(app, user), "b")

    assert len(outbox(app, "auto_top_up.requested")) == 1
    assert [t.status for t in top_ups(app, user)] == [TopUpStatus.ACTION_REQUIRED]


async def test_the_authenticated_top_up_counts_once_towards_the_monthly_limit(app: App) -> None:
    user, session_id = await asked_to_authenticate(app)
    await pay_link(app, session_id)
    await app.gateway.save_card(await app.customer(user), OK)

    await spend(app, user, available(app, user) - 1, "b")  # 1000 of 2000 used: one more
    await work(app)
    await spend(app, user, available(app, user) - 1, "c")  # 2000 of 2000: no more

    assert [t.status for t in top_ups(app, user)] == [TopUpStatus.SUCCEEDED] * 2
    assert len(outbox(app, "auto_top_up.succeeded")) == 2
    assert len(outbox(app, "auto_top_up.requested")) == 2


async def test_an_expired_link_no_longer_counts_towards_the_monthly_limit(app: App) -> None:
    user = await customer_with(app, AUTHENTICATES, monthly_limit=1000)
    await spend(app, user, available(app, user) - 1, "a")
    await work(app)
    (first,) = top_ups(app, user)
    assert first.checkout_payment_id is not None
    await app.handle_all(await app.expire(app.payment(first.checkout_payment_id)))
    app.clock.advance(timedelta(seconds=1))

    await spend(app, user, 1, "b")  # 1000 a month, and the expired one took none of it

    assert [t.status for t in top_ups(app, user)] == [TopUpStatus.FAILED, TopUpStatus.REQUESTED]


async def test_an_expired_link_ends_the_top_up_and_the_next_crossing_requests_again(
    app: App,
) -> None:
    user, _ = await asked_to_authenticate(app)
    (top_up,) = top_ups(app, user)
    assert top_up.checkout_payment_id is not None
    checkout = app.payment(top_up.checkout_payment_id)

    await app.handle_all(await app.expire(checkout))

    (ended,) = top_ups(app, user)
    assert ended.status is TopUpStatus.FAILED and ended.last_error == "checkout_expired"
    assert app.payment(checkout.id).status is PaymentStatus.EXPIRED
    (failed,) = outbox(app, "auto_top_up.failed")
    assert failed == {
        "top_up_id": top_up.id,
        "attempt": 1,
        "error": "checkout_expired",
        "retry_at": None,
    }
    app.clock.advance(timedelta(seconds=1))
    await spend(app, user, 1, "b")
    assert [t.status for t in top_ups(app, user)] == [TopUpStatus.FAILED, TopUpStatus.REQUESTED]
    assert available(app, user) == 0


async def test_the_sweep_expiring_the_link_ends_the_top_up_too(app: App) -> None:
    user, _ = await asked_to_authenticate(app)
    app.clock.advance(ACTION_LINK_LIFETIME + timedelta(minutes=1))

    swept = await expire_stale_sessions(
        uow_factory=app.store.uow_factory,
        gateway=app.gateway,
        clock=app.clock,
        policy=SweepPolicy(intent_ttl=timedelta(hours=24)),
        control=NoControl(),
    )

    assert swept.counts["expired"] == 1
    (ended,) = top_ups(app, user)
    assert ended.status is TopUpStatus.FAILED and ended.last_error == "checkout_expired"


async def test_a_worker_that_lost_the_checkouts_answer_makes_no_second_one(app: App) -> None:
    user = await customer_with(app, AUTHENTICATES)
    await spend(app, user, available(app, user) - 1, "a")
    app.gateway.fail_next("create_checkout", after=True)  # made at the gateway, answer lost

    assert not (await run(app)).ok
    (waiting,) = top_ups(app, user)
    assert waiting.status is TopUpStatus.REQUESTED and waiting.checkout_payment_id is not None
    app.clock.advance(LEASE + timedelta(seconds=1))
    assert await work(app) == 1

    (session,) = top_up_sessions(app)
    (top_up,) = top_ups(app, user)
    assert top_up.status is TopUpStatus.ACTION_REQUIRED
    assert top_up.checkout_payment_id == waiting.checkout_payment_id
    assert app.payment(top_up.checkout_payment_id).stripe_session_id == session.id
    assert len(outbox(app, "auto_top_up.action_required")) == 1
    assert app.gateway_intents() == 3  # the first purchase's, the charge's (once), the link's


async def test_a_worker_that_lost_the_cancels_answer_cancels_once(app: App) -> None:
    user = await customer_with(app, AUTHENTICATES)
    await spend(app, user, available(app, user) - 1, "a")
    app.gateway.fail_next("cancel_payment_intent", after=True)

    assert not (await run(app)).ok
    app.clock.advance(LEASE + timedelta(seconds=1))
    assert await work(app) == 1

    (top_up,) = top_ups(app, user)
    assert top_up.status is TopUpStatus.ACTION_REQUIRED
    assert len(top_up_sessions(app)) == 1
    canceled = [e for e in app.kept_events() if e.type == "payment_intent.canceled"]
    assert len(canceled) == 1


async def test_a_link_paid_before_the_worker_recorded_it_completes_the_top_up(
    app: App,
) -> None:
    """The Checkout exists and is paid while its top-up still says requested (the worker
    lost the answer): the payment finds the top-up all the same, and the worker, coming
    back, sends no link for a top-up already paid."""
    user = await customer_with(app, AUTHENTICATES)
    await spend(app, user, available(app, user) - 1, "a")
    app.gateway.fail_next("create_checkout", after=True)
    await run(app)
    (session,) = top_up_sessions(app)

    await pay_link(app, session.id)
    (paid,) = top_ups(app, user)
    app.clock.advance(LEASE + timedelta(seconds=1))
    await work(app)

    assert paid.status is TopUpStatus.SUCCEEDED
    assert [t.status for t in top_ups(app, user)] == [TopUpStatus.SUCCEEDED]
    assert outbox(app, "auto_top_up.action_required") == []
    assert len(outbox(app, "auto_top_up.succeeded")) == 1
    assert available(app, user) == 1 + 1000


class AuthenticatedMeanwhile(MemoryGateway):
    """The user authenticated the PaymentIntent just before the service canceled it."""

    async def cancel_payment_intent(
        self, intent_id: str, *, deliver: str = "now"
    ) -> PaymentIntentState:
        await self.authenticate(intent_id, True, "never")
        return await super().cancel_payment_intent(intent_id, deliver="never")


async def test_a_charge_that_succeeded_before_its_cancel_is_a_success() -> None:
    app = make_app()
    app.gateway = AuthenticatedMeanwhile(app.clock.now)
    user = await customer_with(app, AUTHENTICATES)
    await spend(app, user, available(app, user) - 1, "a")

    assert await work(app) == 1

    (top_up,) = top_ups(app, user)
    assert top_up.status is TopUpStatus.SUCCEEDED and top_up.checkout_payment_id is None
    assert top_up_sessions(app) == []
    assert available(app, user) == 1 + 1000
    assert outbox(app, "auto_top_up.action_required") == []


async def test_a_declined_card_on_the_page_leaves_the_link_open(app: App) -> None:
    user, session_id = await asked_to_authenticate(app)

    await pay_link(app, session_id, "4000000000009995")

    (top_up,) = top_ups(app, user)
    assert top_up.status is TopUpStatus.ACTION_REQUIRED
    assert app.sandbox_store.session(session_id).status is CheckoutStatus.OPEN
    await pay_link(app, session_id)
    assert top_ups(app, user)[0].status is TopUpStatus.SUCCEEDED
