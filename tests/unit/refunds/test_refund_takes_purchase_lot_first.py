"""A refund takes back the refunded purchase's own unspent credits first.

Without the purchase's lot as target, the reversal would follow the plain
consumption order and drain an older purchase (or a trial about to expire) instead,
leaving the refunded credits spendable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory.uow import MemoryStore
from application.refunds.apply_refund import apply_refunds
from application.refunds.gateway import GatewayRefund, RefundStatus
from domain.ledger import EntryKind, Posting, purchase_posting
from domain.payment import Payment, PaymentKind, PaymentStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def paid(payment_id: str) -> Payment:
    return Payment(
        payment_id, "u1", PaymentKind.CHECKOUT, 1000, "usd", 1000, PaymentStatus.COMPLETED, NOW
    )


async def test_a_refund_takes_back_the_refunded_purchases_unspent_credits_first() -> None:
    store = MemoryStore()
    trial = Posting("u1", 300, EntryKind.TRIAL, "trial", "t1", "trial:u1", NOW + timedelta(days=7))
    async with store.uow() as uow:
        await uow.ledger.open_account("u1")
        for payment_id in ("pay_1", "pay_2"):
            await uow.payments.add(paid(payment_id))
            await uow.ledger.post(purchase_posting("u1", payment_id, 1000), NOW)
        await uow.ledger.post(trial, NOW)
        await uow.commit()
    async with store.uow() as uow:
        payment = await uow.payments.get("pay_2", for_update=True)
        assert payment is not None
        refund = GatewayRefund("re_1", "pi_2", 400, "usd", RefundStatus.SUCCEEDED)
        assert await apply_refunds(uow, payment, [refund], NOW) == {"re_1": 400}
        await uow.commit()
    async with store.uow() as uow:
        lots = {lot.idempotency_key: lot.remaining for lot in await uow.lots.open_lots("u1")}
        account = await uow.ledger.account("u1")
    assert lots == {"trial:u1": 300, "purchase:pay_1": 1000, "purchase:pay_2": 600}
    assert account is not None and account.balance == 1900
