"""A hypothesis state machine over grants, debits, batches, holds, captures, releases,
expiries, refunds and disputes, on any unit-of-work factory.

After every step: each balance equals the sum of its entries and the lots hold
exactly the spendable balance (``ledger verify`` finds nothing), ``held`` is the sum
of the active holds, and a spending step that succeeded left available >= 0. Only
reversals (refunds, lost disputes) may take a balance, and so available, below zero.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from adapters.clock import FixedClock
from application.batch import NoControl
from application.ports import UnitOfWorkFactory
from application.queries import verify_ledger
from application.refunds.gateway import GatewayRefund, RefundStatus
from application.spending.capture_hold import capture_hold
from application.spending.debit import debit
from application.spending.debit_batch import debit_batch
from application.spending.expire_holds import expire_holds
from application.spending.place_hold import place_hold
from application.spending.release_hold import release_hold
from application.webhooks.events import (
    DisputeClosed,
    DisputeFundsWithdrawn,
    DisputeOpened,
    PaymentRef,
    PaymentSucceeded,
    RefundsReported,
)
from application.webhooks.handle_gateway_event import handle_gateway_event
from domain.errors import DomainError
from domain.ledger import EntryKind, Posting
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.spending import Debit

USERS = ("u0", "u1")
KEYS = [f"k{n}" for n in range(6)]
AMOUNTS = st.integers(min_value=1, max_value=400)


class SpendingMachine(RuleBasedStateMachine):
    """Subclasses set ``make`` (a fresh factory and a runner for coroutines)."""

    make: Callable[[], tuple[UnitOfWorkFactory, Callable[[Any], Any]]]

    def __init__(self) -> None:
        super().__init__()
        self.factory, self.run = self.make()
        self.clock = FixedClock()
        self.payments: list[tuple[str, str]] = []  # (payment id, user id)
        self.holds: list[str] = []
        self.serial = 0

    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    @initialize()
    def open_accounts(self) -> None:
        async def go() -> None:
            async with self.factory() as uow:
                for user in USERS:
                    await uow.ledger.open_account(user)
                await uow.commit()

        self.run(go())

    def _event(self, event: Any) -> None:
        self.run(
            handle_gateway_event(event, uow_factory=self.factory, gateway=None, clock=self.clock)  # type: ignore[arg-type]
        )

    @rule(user=st.sampled_from(USERS), amount=st.integers(min_value=100, max_value=2000))
    def purchase(self, user: str, amount: int) -> None:
        payment_id = self._next("pay")
        payment = Payment(
            id=payment_id,
            user_id=user,
            kind=PaymentKind.PAYMENT_INTENT,
            amount=amount,
            currency="usd",
            credits=amount,
            status=PaymentStatus.PENDING,
            created_at=self.clock.now(),
            stripe_payment_intent_id=f"pi_{payment_id}",
        )

        async def add() -> None:
            async with self.factory() as uow:
                await uow.payments.add(payment)
                await uow.commit()

        self.run(add())
        ref = PaymentRef(intent_id=f"pi_{payment_id}")
        self._event(
            PaymentSucceeded(
                event_id=self._next("evt"), type="t", payment=ref, amount=amount, currency="usd"
            )
        )
        self.payments.append((payment_id, user))

    @rule(user=st.sampled_from(USERS), credits=AMOUNTS, days=st.integers(1, 3))
    def expiring_grant(self, user: str, credits: int, days: int) -> None:
        posting = Posting(
            user_id=user,
            credits=credits,
            kind=EntryKind.COUPON,
            reference_type="coupon",
            reference_id="c",
            idempotency_key=self._next("coupon"),
            expires_at=self.clock.now() + timedelta(days=days),
        )

        async def go() -> None:
            async with self.factory() as uow:
                await uow.ledger.post(posting, self.clock.now())
                await uow.commit()

        self.run(go())

    @rule(user=st.sampled_from(USERS), credits=AMOUNTS, key=st.sampled_from(KEYS))
    def debit(self, user: str, credits: int, key: str) -> None:
        self._spend(debit(Debit(user, credits, key), uow_factory=self.factory, clock=self.clock))

    @rule(items=st.lists(st.tuples(st.sampled_from(USERS), AMOUNTS), min_size=1, max_size=4))
    def batch(self, items: list[tuple[str, int]]) -> None:
        debits = [Debit(user, credits, self._next("b")) for user, credits in items]
        self.run(debit_batch(debits, uow_factory=self.factory, clock=self.clock))

    @rule(user=st.sampled_from(USERS), credits=AMOUNTS, ttl=st.integers(1, 7200))
    def hold(self, user: str, credits: int, ttl: int) -> None:
        placed = self._spend(
            place_hold(
                user, credits, self._next("h"), ttl, uow_factory=self.factory, clock=self.clock
            )
        )
        if placed is not None:
            self.holds.append(placed.id)

    @rule(pick=st.integers(0, 50), credits=st.integers(0, 400))
    def capture(self, pick: int, credits: int) -> None:
        if self.holds:
            hold_id = self.holds[pick % len(self.holds)]
            self._spend(capture_hold(hold_id, credits, uow_factory=self.factory, clock=self.clock))

    @rule(pick=st.integers(0, 50))
    def release(self, pick: int) -> None:
        if self.holds:
            hold_id = self.holds[pick % len(self.holds)]
            self._spend(release_hold(hold_id, uow_factory=self.factory, clock=self.clock))

    @rule(hours=st.integers(1, 30), sweep=st.booleans())
    def time_passes(self, hours: int, sweep: bool) -> None:
        self.clock.advance(timedelta(hours=hours))
        if sweep:
            self.run(
                expire_holds(
                    uow_factory=self.factory, clock=self.clock, batch_size=3, control=NoControl()
                )
            )

    @rule(pick=st.integers(0, 50), share=st.integers(1, 100))
    def refund(self, pick: int, share: int) -> None:
        if not self.payments:
            return
        payment_id, _ = self.payments[pick % len(self.payments)]
        amount = max(1, share * 20)
        refund = GatewayRefund(
            self._next("re"), f"pi_{payment_id}", amount, "usd", RefundStatus.SUCCEEDED
        )
        ref = PaymentRef(intent_id=f"pi_{payment_id}", metadata={"payment_id": payment_id})
        self._event(
            RefundsReported(event_id=self._next("evt"), type="t", payment=ref, refunds=(refund,))
        )

    @rule(pick=st.integers(0, 50), step=st.sampled_from(["open", "funds", "won", "lost"]))
    def dispute(self, pick: int, step: str) -> None:
        if not self.payments:
            return
        payment_id, _ = self.payments[pick % len(self.payments)]
        common = {
            "event_id": self._next("evt"),
            "type": "t",
            "payment": PaymentRef(intent_id=f"pi_{payment_id}"),
            "dispute_id": f"du_{payment_id}",
        }
        if step == "open":
            self._event(DisputeOpened(**common))
        elif step == "funds":
            self._event(DisputeFundsWithdrawn(**common))
        else:
            self._event(DisputeClosed(**common, won=step == "won"))

    def _spend(self, coroutine: Any) -> Any:
        try:
            result = self.run(coroutine)
        except DomainError:
            return None
        available = getattr(result, "available", None)
        assert available is None or available >= 0
        return result

    @invariant()
    def ledger_is_exact(self) -> None:
        async def check() -> tuple[list[object], dict[str, int], dict[str, int]]:
            mismatches = list(await verify_ledger(uow_factory=self.factory))
            held: dict[str, int] = {}
            active: dict[str, int] = dict.fromkeys(USERS, 0)
            async with self.factory() as uow:
                for user in USERS:
                    account = await uow.ledger.account(user)
                    assert account is not None
                    held[user] = account.held
                holds = [await uow.holds.get(hold_id) for hold_id in self.holds]
                holds += [await uow.holds.for_reference(f"du_{p}") for p, _ in self.payments]
            for hold in holds:
                if hold is not None and hold.is_active:
                    active[hold.user_id] += hold.credits
            return mismatches, held, active

        mismatches, held, active = self.run(check())
        assert mismatches == []
        assert held == active
