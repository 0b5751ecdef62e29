"""The one path that turns a paid payment into credits, whatever triggered it.

Checkout events, PaymentIntent events and session polls all call ``fulfil`` inside
their own transaction, with the payment row locked. The grant is keyed
``purchase:<payment id>`` and the ledger's unique index is the last word, so two
triggers for one payment grant once (docs/failure-modes.md #1, 4). The completion is a
``PaymentCompleted`` event: the trial conversion and the referral bonus are its
handlers, run by the unit of work in the same transaction, after the grant
(``application.bootstrap``). A payment that is an auto top-up's authentication Checkout
also settles its top-up here, with the grant (``auto_top_up.checkout``).
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from application.auto_top_up.checkout import top_up_checkout_paid
from application.credits.grant import grant
from application.ports import UnitOfWork
from domain.ledger import purchase_posting
from domain.payment import Payment

log = logging.getLogger(__name__)


class FulfilOutcome(enum.StrEnum):
    GRANTED = "granted"
    ALREADY_FULFILLED = "already_fulfilled"
    AMOUNT_MISMATCH = "amount_mismatch"


async def fulfil(
    uow: UnitOfWork,
    payment: Payment,
    paid_amount: int | None,
    paid_currency: str | None,
    now: datetime,
    source: str,
) -> FulfilOutcome:
    """Complete ``payment`` and grant its credits, once. The caller commits."""
    if payment.is_paid:
        return FulfilOutcome.ALREADY_FULFILLED
    if not payment.matches(paid_amount, paid_currency):
        log.error(
            "payment_amount_mismatch payment_id=%s user_id=%s expected=%s %s got=%s %s source=%s",
            payment.id,
            payment.user_id,
            payment.amount,
            payment.currency,
            paid_amount,
            paid_currency,
            source,
        )
        return FulfilOutcome.AMOUNT_MISMATCH
    payment.complete(now)
    await uow.payments.save(payment)
    return await grant_purchase(uow, payment, now, source)


async def grant_purchase(
    uow: UnitOfWork, payment: Payment, now: datetime, source: str
) -> FulfilOutcome:
    """Grant the credits of ``payment``, completed and saved in this transaction."""
    entry = await grant(uow, purchase_posting(payment.user_id, payment.id, payment.credits), now)
    if entry is None:
        return FulfilOutcome.ALREADY_FULFILLED
    await top_up_checkout_paid(uow, payment, now)
    log.info(
        "credits_granted payment_id=%s user_id=%s credits=%s balance_after=%s source=%s",
        payment.id,
        payment.user_id,
        payment.credits,
        entry.balance_after,
        source,
    )
    return FulfilOutcome.GRANTED
