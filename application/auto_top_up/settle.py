"""What a charge's answer does to its top-up, in one transaction with the row locked:
a success fulfils the payment (the ordinary path, once), a request for authentication
cancels the charge's payment and tells the user where to pay instead (the Checkout of
``authenticate``; the top-up stays in flight until it is paid or closes, see
``checkout``), a decline is retried on the schedule, and ``MAX_FAILURES`` failures in a
row turn auto top-up off."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.auto_top_up.authenticate import AuthenticationLink
from application.auto_top_up.ports import ChargeOutcome, OffSessionCharge
from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from application.purchases.fulfil_payment import fulfil
from domain.auto_top_up import MAX_FAILURES, AutoTopUp, TopUpStatus
from domain.events import (
    AutoTopUpActionRequired,
    AutoTopUpDisabled,
    AutoTopUpFailed,
    AutoTopUpSucceeded,
)
from domain.payment import Payment


async def settle(
    claimed: AutoTopUp,
    payment_id: str,
    charge: OffSessionCharge | None,
    link: AuthenticationLink | None = None,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    """``link``: where the user pays instead, when the charge asked for authentication."""
    now = clock.now()
    async with uow_factory() as uow:
        top_up = await uow.auto_top_ups.get(claimed.id, for_update=True)
        if top_up is None or top_up.status != TopUpStatus.REQUESTED:
            return
        if top_up.attempts != claimed.attempts:
            return  # another worker settled this attempt after our lease ran out
        top_up = replace(top_up, payment_id=payment_id)
        if charge is None or charge.outcome is ChargeOutcome.NO_PAYMENT_METHOD:
            await _disable(
                uow, replace(top_up, status=TopUpStatus.FAILED), "no_payment_method", now
            )
        elif charge.outcome is ChargeOutcome.SUCCEEDED:
            await _succeed(uow, top_up, charge, now)
        elif charge.outcome is ChargeOutcome.AUTHENTICATION_REQUIRED:
            if link is None:
                return  # the attempt was settled while its Checkout was being made
            await _needs_action(uow, top_up, charge, link, now)
        else:
            await _declined(uow, top_up, charge.error or charge.outcome.value, now)
        await uow.commit()


async def _succeed(
    uow: UnitOfWork, top_up: AutoTopUp, charge: OffSessionCharge, now: datetime
) -> None:
    payment = await _with_intent(uow, top_up, charge.intent_id)
    await fulfil(uow, payment, payment.amount, payment.currency, now, "auto_top_up")
    await uow.auto_top_ups.save(top_up.succeeded())
    await _failures(uow, top_up.user_id, 0, now)
    uow.record(AutoTopUpSucceeded.of(top_up.id, payment, now))


async def _needs_action(
    uow: UnitOfWork,
    top_up: AutoTopUp,
    charge: OffSessionCharge,
    link: AuthenticationLink,
    now: datetime,
) -> None:
    """The charge's PaymentIntent was canceled at the gateway: its payment is closed
    here too, so only the Checkout can pay for the top-up."""
    payment = await _with_intent(uow, top_up, charge.intent_id)
    if payment.cancel(charge.error or "authentication_required", now):
        await uow.payments.save(payment)
    ended = top_up.needs_action(charge.error or "authentication_required", link.url)
    await uow.auto_top_ups.save(ended)
    uow.record(
        AutoTopUpActionRequired(
            user_id=top_up.user_id,
            occurred_at=now,
            top_up_id=top_up.id,
            payment_id=link.payment_id,
            url=link.url,
            expires_at=link.expires_at,
        )
    )
    if await _failures(uow, top_up.user_id, None, now) >= MAX_FAILURES:
        await _disable(uow, ended, "failures", now)


async def _declined(uow: UnitOfWork, top_up: AutoTopUp, error: str, now: datetime) -> None:
    failures = await _failures(uow, top_up.user_id, None, now)
    tried = top_up.declined(error, failures, now)
    await uow.auto_top_ups.save(tried)
    retry_at = tried.next_attempt_at if tried.status is TopUpStatus.REQUESTED else None
    uow.record(
        AutoTopUpFailed(
            user_id=top_up.user_id,
            occurred_at=now,
            top_up_id=top_up.id,
            attempt=tried.attempts,
            error=error,
            retry_at=retry_at,
        )
    )
    if tried.status is TopUpStatus.FAILED:
        await _disable(uow, tried, "failures", now)


async def _disable(uow: UnitOfWork, top_up: AutoTopUp, reason: str, now: datetime) -> None:
    await uow.auto_top_ups.save(top_up)
    settings = await uow.auto_top_ups.settings(top_up.user_id, for_update=True)
    if settings is not None:
        await uow.auto_top_ups.save_settings(top_up.user_id, replace(settings, enabled=False), now)
    uow.record(
        AutoTopUpDisabled(
            user_id=top_up.user_id, occurred_at=now, top_up_id=top_up.id, reason=reason
        )
    )


async def _failures(uow: UnitOfWork, user_id: str, reset: int | None, now: datetime) -> int:
    """Count one more failure in a row (``reset`` None) or reset it; the new count."""
    settings = await uow.auto_top_ups.settings(user_id, for_update=True)
    if settings is None:
        return 0
    count = settings.failures + 1 if reset is None else reset
    await uow.auto_top_ups.save_settings(user_id, replace(settings, failures=count), now)
    return count


async def _with_intent(uow: UnitOfWork, top_up: AutoTopUp, intent_id: str | None) -> Payment:
    assert top_up.payment_id is not None
    payment = await uow.payments.get(top_up.payment_id, for_update=True)
    assert payment is not None  # opened before the charge
    if payment.stripe_payment_intent_id is None and intent_id is not None:
        payment.stripe_payment_intent_id = intent_id
        await uow.payments.save(payment)
    return payment
