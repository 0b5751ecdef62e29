"""``creditline batch auto-top-up`` (and the background of ``serve``): charge the
requested top-ups off-session, outside any transaction.

A claimed row is leased (its next attempt moved ``LEASE`` ahead) and committed before
the gateway is called with the attempt's deterministic key; a worker that dies
mid-charge leaves the row to be claimed again after the lease, and the gateway answers
the same key with the same charge. The payment is an ordinary purchase (opened by
``orders.open_payment`` under the attempt's key, ``auto_top_up:<id>`` then
``auto_top_up:<id>:<n>`` for retries; fulfilled by
``fulfil_payment.fulfil``), so it is granted once and refundable. A charge the bank
wants the user to authenticate is canceled and replaced by a hosted Checkout
(``authenticate``), whose payment settles the top-up when it is paid.
"""

from __future__ import annotations

from datetime import timedelta

from application.auto_top_up.authenticate import AuthenticationLink, ask_to_authenticate
from application.auto_top_up.ports import (
    AutoTopUpGateway,
    ChargeOutcome,
    OffSessionRequest,
    TopUpTerms,
)
from application.auto_top_up.settle import settle
from application.batch import BatchControl, JobReport, NoControl
from application.ports import Clock, UnitOfWorkFactory
from application.purchases.orders import Order, fingerprint, open_payment
from domain.auto_top_up import AutoTopUp
from domain.payment import Payment, PaymentKind

JOB = "auto-top-up"
LEASE = timedelta(minutes=5)


async def run_auto_top_ups(
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: AutoTopUpGateway,
    clock: Clock,
    terms: TopUpTerms,
    batch_size: int = 50,
    control: BatchControl | None = None,
) -> JobReport:
    """Charge the due top-ups, ``batch_size`` claimed at a time, until none is due.

    A charge that raised (the gateway unreachable) leaves its row leased: it is tried
    again, under the same key, when the lease runs out.
    """
    report, control = JobReport(JOB), control or NoControl()
    control.begin(None)
    while not control.stop_requested:
        now = clock.now()
        async with uow_factory() as uow:
            due = await uow.auto_top_ups.claim_due(now, now + LEASE, batch_size)
            await uow.commit()
        if not due:
            break
        for top_up in due:
            try:
                report.counts[await _one(top_up, uow_factory, gateway, clock, terms)] += 1
            except Exception as exc:
                report.fail(top_up.id, exc)
        control.advance(len(due))
    return report


async def _one(
    top_up: AutoTopUp,
    uow_factory: UnitOfWorkFactory,
    gateway: AutoTopUpGateway,
    clock: Clock,
    terms: TopUpTerms,
) -> str:
    payment = await _payment(top_up, uow_factory, clock, terms)
    async with uow_factory() as uow:
        customer = await uow.customers.get(top_up.user_id)
    if customer is None:  # no gateway customer, so no saved card
        await settle(top_up, payment.id, None, uow_factory=uow_factory, clock=clock)
        return "no_payment_method"
    charge = await gateway.charge_off_session(_request(top_up, payment, customer))
    link: AuthenticationLink | None = None
    if charge.outcome is ChargeOutcome.AUTHENTICATION_REQUIRED:
        charge, link = await ask_to_authenticate(
            top_up, payment, customer, charge,
            uow_factory=uow_factory, gateway=gateway, clock=clock, terms=terms,
        )  # fmt: skip
    await settle(top_up, payment.id, charge, link, uow_factory=uow_factory, clock=clock)
    return charge.outcome.value


async def _payment(
    top_up: AutoTopUp, uow_factory: UnitOfWorkFactory, clock: Clock, terms: TopUpTerms
) -> Payment:
    amount = None if top_up.package_id else top_up.amount
    order = Order(
        top_up.user_id, amount, top_up.currency, "Auto top-up", top_up.package_id,
        top_up.idempotency_key,
    )  # fmt: skip
    kind = PaymentKind.PAYMENT_INTENT
    return await open_payment(
        order,
        kind,
        fingerprint(kind, amount, top_up.currency, "Auto top-up", top_up.package_id),
        uow_factory=uow_factory,
        pricing=terms.pricing,
        now=clock.now(),
        expires_in=terms.expires_in,
    )


def _request(top_up: AutoTopUp, payment: Payment, customer: str) -> OffSessionRequest:
    return OffSessionRequest(
        payment_id=payment.id,
        user_id=payment.user_id,
        customer_id=customer,
        amount=payment.amount,
        currency=payment.currency,
        credits=payment.credits,
        description=f"Auto top-up: {payment.credits} credits",
        idempotency_key=top_up.idempotency_key,
    )
