"""Free-trial credits: started with the user, converted by the first purchase."""

from __future__ import annotations

import logging
from datetime import datetime

from application.ports import UnitOfWork, UnitOfWorkFactory
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
    await uow.ledger.post(trial.grant(), now)
    return trial


async def get_trial(user_id: str, *, uow_factory: UnitOfWorkFactory) -> Trial | None:
    async with uow_factory() as uow:
        return await uow.trials.get(user_id)
