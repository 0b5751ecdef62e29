"""Subscriptions, their paid invoices, plan terms and gateway customers on SQL.

Ids are primary keys, so a second ``add`` of one subscription or invoice is an
``ON CONFLICT DO NOTHING`` that inserts nothing ("already done",
docs/failure-modes.md #4); ``get(for_update=True)`` locks a subscription's row, so the
events of one subscription take turns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.tables import (
    gateway_customers,
    subscription_checkout_claims,
    subscription_invoices,
    subscription_plans,
    subscriptions,
)
from domain.money import Money
from domain.plans import Interval, Plan
from domain.subscription import Subscription, SubscriptionInvoice, SubscriptionStatus

_subs = subscriptions.c
_invoices = subscription_invoices.c
_claims = subscription_checkout_claims.c


def _subscription(row: Row[Any]) -> Subscription:
    values = dict(row._mapping)
    return Subscription(**{**values, "status": SubscriptionStatus(values["status"])})


def _invoice(row: Row[Any]) -> SubscriptionInvoice:
    return SubscriptionInvoice(**row._mapping)


class SqlSubscriptionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def add(self, subscription: Subscription) -> bool:
        values = {**asdict(subscription), "status": subscription.status.value}
        statement = (
            self._insert(subscriptions).values(values).on_conflict_do_nothing().returning(_subs.id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def save(self, subscription: Subscription) -> None:
        values = {**asdict(subscription), "status": subscription.status.value}
        del values["id"], values["user_id"], values["created_at"]
        await self._conn.execute(
            update(subscriptions).where(_subs.id == subscription.id).values(values)
        )

    async def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        statement = select(subscriptions).where(_subs.id == subscription_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _subscription(row)

    async def for_user(self, user_id: str) -> Subscription | None:
        live = (_subs.status != SubscriptionStatus.CANCELED.value).desc()
        statement = (
            select(subscriptions)
            .where(_subs.user_id == user_id)
            .order_by(live, _subs.created_at.desc(), _subs.id.desc())
            .limit(1)
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _subscription(row)

    async def add_invoice(self, invoice: SubscriptionInvoice) -> bool:
        statement = (
            self._insert(subscription_invoices)
            .values(asdict(invoice))
            .on_conflict_do_nothing()
            .returning(_invoices.invoice_id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def save_invoice(self, invoice: SubscriptionInvoice) -> None:
        await self._conn.execute(
            update(subscription_invoices)
            .where(_invoices.invoice_id == invoice.invoice_id)
            .values(
                amount_refunded=invoice.amount_refunded,
                credits_reversed=invoice.credits_reversed,
                rolled_in=invoice.rolled_in,
                rollovers=invoice.rollovers,
            )
        )

    async def get_invoice(self, invoice_id: str) -> SubscriptionInvoice | None:
        return await self._one(
            select(subscription_invoices).where(_invoices.invoice_id == invoice_id)
        )

    async def invoice_for_payment(self, payment_intent_id: str) -> SubscriptionInvoice | None:
        statement = select(subscription_invoices).where(
            _invoices.payment_intent_id == payment_intent_id
        )
        return await self._one(statement)

    async def invoices_ending(
        self, subscription_id: str, period_end: datetime
    ) -> Sequence[SubscriptionInvoice]:
        return await self._many(subscription_id, _invoices.period_end == period_end)

    async def invoices_starting(
        self, subscription_id: str, period_start: datetime
    ) -> Sequence[SubscriptionInvoice]:
        return await self._many(subscription_id, _invoices.period_start == period_start)

    async def claim_checkout(
        self, user_id: str, claim_key: str, held_until: datetime, now: datetime
    ) -> bool:
        """A concurrent claim waits for this row's transaction, then sees it held."""
        values = {"claim_key": claim_key, "held_until": held_until, "claimed_at": now}
        statement = (
            self._insert(subscription_checkout_claims)
            .values(user_id=user_id, **values)
            .on_conflict_do_update(
                index_elements=[_claims.user_id],
                set_=values,
                where=or_(_claims.held_until <= now, _claims.claim_key == claim_key),
            )
            .returning(_claims.user_id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def release_checkout(self, user_id: str, claim_key: str | None = None) -> None:
        statement = delete(subscription_checkout_claims).where(_claims.user_id == user_id)
        if claim_key is not None:
            statement = statement.where(_claims.claim_key == claim_key)
        await self._conn.execute(statement)

    async def record_plan(self, plan: Plan, now: datetime) -> None:
        values = {
            "price_id": plan.price_id,
            "plan_id": plan.id,
            "name": plan.name,
            "amount": plan.price.amount,
            "currency": plan.price.currency,
            "interval": plan.interval.value,
            "credits_per_period": plan.credits_per_period,
            "rollover_cap": plan.rollover_cap,
        }
        changed = (await self.plans()).get(plan.price_id) != plan
        if not changed:
            return
        statement = self._insert(subscription_plans).values({**values, "updated_at": now})
        statement = statement.on_conflict_do_update(
            index_elements=[subscription_plans.c.price_id],
            set_={name: statement.excluded[name] for name in [*values, "updated_at"]},
        )
        await self._conn.execute(statement)

    async def plans(self) -> Mapping[str, Plan]:
        rows = (await self._conn.execute(select(subscription_plans))).all()
        return {row.price_id: _plan(row) for row in rows}

    async def _one(self, statement: Any) -> SubscriptionInvoice | None:
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _invoice(row)

    async def _many(self, subscription_id: str, condition: Any) -> list[SubscriptionInvoice]:
        statement = (
            select(subscription_invoices)
            .where(_invoices.subscription_id == subscription_id, condition)
            .order_by(_invoices.paid_at, _invoices.invoice_id)
        )
        return [_invoice(row) for row in (await self._conn.execute(statement)).all()]


def _plan(row: Row[Any]) -> Plan:
    return Plan(
        id=row.plan_id,
        name=row.name,
        price_id=row.price_id,
        price=Money.of(row.amount, row.currency),
        interval=Interval(row.interval),
        credits_per_period=row.credits_per_period,
        rollover_cap=row.rollover_cap,
    )


class SqlCustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self._insert = insert_for(connection)

    async def get(self, user_id: str) -> str | None:
        statement = select(gateway_customers.c.customer_id).where(
            gateway_customers.c.user_id == user_id
        )
        return (await self._conn.execute(statement)).scalar()

    async def add(self, user_id: str, customer_id: str, now: datetime) -> str:
        await self._conn.execute(
            self._insert(gateway_customers)
            .values(user_id=user_id, customer_id=customer_id, created_at=now)
            .on_conflict_do_nothing()
        )
        stored = await self.get(user_id)
        assert stored is not None
        return stored

    async def user_for(self, customer_id: str) -> str | None:
        statement = select(gateway_customers.c.user_id).where(
            gateway_customers.c.customer_id == customer_id
        )
        return (await self._conn.execute(statement)).scalar()
