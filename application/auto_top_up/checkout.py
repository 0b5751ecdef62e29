"""What the Checkout that asked the user to authenticate does to its top-up, in the
transaction that completes or closes its payment.

That Checkout's payment is an ordinary purchase: whichever path completes it (its
``checkout.session.completed``, a ``payment_intent.succeeded``, the owner's poll, the
sweep) grants its credits once (``purchases.fulfil_payment``), and in that transaction
the top-up succeeds and ``auto_top_up.succeeded`` is recorded, once, because the grant
is. The paths that close it unpaid (it expired) end the top-up as failed, so the next
crossing of the threshold may request another. Payments that are no top-up's Checkout
cost nothing here: they are told apart without a read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.ports import UnitOfWork
from domain.auto_top_up import KEY_PREFIX, AutoTopUp
from domain.events import AutoTopUpFailed, AutoTopUpSucceeded
from domain.payment import CLOSED_UNPAID, Payment, PaymentKind


def _may_be_top_up_checkout(payment: Payment) -> bool:
    """Only the top-up's own row says so (``checkout_payment_id``): a client may pick a
    key that looks like a top-up's, but never link a top-up to its payment."""
    key = payment.client_key or ""
    return payment.kind is PaymentKind.CHECKOUT and key.startswith(KEY_PREFIX)


async def _waiting_top_up(uow: UnitOfWork, payment: Payment) -> AutoTopUp | None:
    if not _may_be_top_up_checkout(payment):
        return None
    top_up = await uow.auto_top_ups.by_checkout_payment(payment.id, for_update=True)
    return top_up if top_up is not None and top_up.in_flight else None


async def top_up_checkout_paid(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """``payment`` was completed and granted in this transaction."""
    top_up = await _waiting_top_up(uow, payment)
    if top_up is None:
        return
    await uow.auto_top_ups.save(top_up.paid_on_session())
    settings = await uow.auto_top_ups.settings(top_up.user_id, for_update=True)
    if settings is not None and settings.failures:
        await uow.auto_top_ups.save_settings(top_up.user_id, replace(settings, failures=0), now)
    uow.record(AutoTopUpSucceeded.of(top_up.id, payment, now))


async def top_up_checkout_closed(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """``payment`` was closed in this transaction; ``failed`` is not final (the user may
    try another card on the same page), expired and canceled are."""
    if payment.status not in CLOSED_UNPAID:
        return
    top_up = await _waiting_top_up(uow, payment)
    if top_up is None:
        return
    error = f"checkout_{payment.status.value}"
    ended = top_up.unpaid_on_session(error)
    await uow.auto_top_ups.save(ended)
    uow.record(
        AutoTopUpFailed(
            user_id=top_up.user_id,
            occurred_at=now,
            top_up_id=top_up.id,
            attempt=ended.attempts,
            error=error,
            retry_at=None,
        )
    )
