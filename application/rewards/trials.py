"""Free-trial credits: started with the user, converted by the first purchase."""

from __future__ import annotations

import logging
from datetime import datetime

from application.credits.grant import grant
from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.events import PaymentCompleted, TrialConverted, TrialStarted
from domain.trial import Trial, TrialTerms
from domain.user import User

log = logging.getLogger(__name__)


async def start_trial(
    uow: UnitOfWork, user: User, terms: TrialTerms, now: datetime
) -> Trial | None:
    """Grant the trial inside the user's creation, unless its mailbox already had one.

    The trial row is unique per normalised email, so two sign-ups of one mailbox at
    the same moment still get one trial between them (docs/failure-modes.md #4).
    """
    if not terms.enabled:
        return None
    trial = Trial.start(user.id, user.email, terms, now)
    if not await uow.trials.start(trial):
        log.info("trial_refused user_id=%s reason=email_had_trial", user.id)
        return None
    await grant(uow, trial.grant(), now)
    uow.record(
        TrialStarted(
            user_id=user.id, occurred_at=now, credits=trial.credits, expires_at=trial.expires_at
        )
    )
    return trial


async def convert_trial(uow: UnitOfWork, event: PaymentCompleted, now: datetime) -> None:
    """A completed purchase converts the buyer's trial, if they have one not yet converted.

    Runs in the purchase's transaction (``application.bootstrap``); the conditional
    update converts once, and two purchases racing record the same event id.
    """
    trial = await uow.trials.get(event.user_id)
    if trial is None or trial.converted_at is not None:
        return
    await uow.trials.mark_converted(event.user_id, now)
    uow.record(TrialConverted(user_id=event.user_id, occurred_at=now, payment_id=event.payment_id))


async def get_trial(user_id: str, *, uow_factory: UnitOfWorkFactory) -> Trial | None:
    async with uow_factory() as uow:
        return await uow.trials.get(user_id)
