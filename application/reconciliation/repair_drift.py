"""Repair the drift that the ordinary, exactly-once paths can repair; nothing else.

A missing grant goes through ``apply_gateway_state`` (so ``fulfil``, keyed by the
payment), a missing refund reversal through ``apply_refunds`` (keyed by the refund),
so a repair racing a late webhook still happens once. An extra grant, an amount that
differs or refunded totals that disagree need a human: reversing credits that may be
spent, or believing one side's amount, is a decision, not a repair.
"""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.purchases.sync_payment import apply_gateway_state
from application.reconciliation.drift import Drift, DriftKind
from application.refunds.apply_refund import apply_refunds
from domain.ledger import purchase_key


async def repair(
    drift: Drift, uow_factory: UnitOfWorkFactory, clock: Clock, source: str
) -> str | None:
    """What was done, or None when this drift is not safe to repair."""
    if drift.kind is DriftKind.MISSING_GRANT and drift.paid is not None:
        await apply_gateway_state(
            uow_factory,
            drift.payment_id,
            clock.now(),
            paid=True,
            amount=drift.paid.amount,
            currency=drift.paid.currency,
            intent_id=drift.paid.intent_id,
            source=source,
        )
        async with uow_factory() as uow:
            entry = await uow.audit.find_entry(purchase_key(drift.payment_id))
        return None if entry is None else f"granted {entry.credits} credits"
    if drift.kind is DriftKind.MISSING_REFUND and drift.refund is not None:
        async with uow_factory() as uow:
            payment = await uow.payments.get(drift.payment_id, for_update=True)
            if payment is None or not payment.is_paid:
                return None
            applied = await apply_refunds(uow, payment, [drift.refund], clock.now())
            await uow.commit()
        reversed_credits = applied.get(drift.refund.refund_id)
        return None if reversed_credits is None else f"reversed {reversed_credits} credits"
    return None
