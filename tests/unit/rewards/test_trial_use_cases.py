"""Free-trial credits on the memory adapters: once per mailbox, converted by a purchase."""

from __future__ import annotations

from datetime import timedelta

from application.rewards.trials import get_trial
from domain.ledger import EntryKind
from domain.trial import TrialState, TrialTerms
from tests.unit.conftest import App
from tests.unit.rewards_helpers import buy, sign_up

TRIAL = TrialTerms(credits=300, days=7)


async def test_a_new_user_gets_expiring_trial_credits(app: App) -> None:
    created = await sign_up(app, "jane@example.com", trial=TRIAL)
    user_id = created.user.id
    assert app.balance(user_id) == 300
    (grant,) = app.entries(user_id)
    assert grant.kind is EntryKind.TRIAL
    assert grant.expires_at == app.clock.now() + timedelta(days=7)
    trial = await get_trial(user_id, uow_factory=app.store.uow_factory)
    assert trial is not None and trial.state(app.clock.now()) is TrialState.ACTIVE


async def test_one_trial_per_normalised_email(app: App) -> None:
    first = await sign_up(app, "Jane.Doe@gmail.com", trial=TRIAL)
    again = await sign_up(app, "janedoe+second@googlemail.com", trial=TRIAL)
    other = await sign_up(app, "jane.doe@example.com", trial=TRIAL)
    assert app.balance(first.user.id) == 300
    assert app.balance(again.user.id) == 0
    assert app.balance(other.user.id) == 300
    assert await get_trial(again.user.id, uow_factory=app.store.uow_factory) is None


async def test_trials_are_off_unless_configured(app: App) -> None:
    created = await sign_up(app, trial=TrialTerms())
    assert app.balance(created.user.id) == 0
    assert app.store.state.rewards.trials == {}


async def test_the_first_purchase_converts_the_trial_once(app: App) -> None:
    created = await sign_up(app, trial=TRIAL)
    app.clock.advance(timedelta(days=30))
    await buy(app, created.user.id)
    converted_at = app.clock.now()
    app.clock.advance(timedelta(days=1))
    await buy(app, created.user.id)
    trial = await get_trial(created.user.id, uow_factory=app.store.uow_factory)
    assert trial is not None and trial.converted_at == converted_at
    assert trial.state(app.clock.now()) is TrialState.CONVERTED
