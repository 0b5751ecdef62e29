"""Referrals on SQL: one row per referred user, and each referrer's use counter.

``take_use`` is one conditional upsert: ``INSERT ... ON CONFLICT DO UPDATE SET uses =
uses + 1 WHERE uses < :max RETURNING uses``. Concurrent first purchases of two users
referred by one referrer queue on the counter row, and each sees the other's
increment before deciding, so the cap holds (docs/failure-modes.md #4, 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.dialect import insert_for
from adapters.sqlalchemy.hints import AccountHints
from adapters.sqlalchemy.tables import accounts, referral_uses, referrals, users
from application.rewards.ports import StatusTally
from domain.referral import Referral, ReferralStatus, ReferralTerms

_DECISION = ("status", "payment_id", "decided_at", "reversed_at", "bonus_reversals")
# Runs on every purchase: built once (see ``dialect.per_dialect``).
_GET = select(referrals).where(referrals.c.user_id == bindparam("user_id"))
_GET_FOR_UPDATE = _GET.with_for_update()
_FLAG = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .values(has_referral=True)
)


class SqlReferralRepository:
    def __init__(self, connection: AsyncConnection, hints: AccountHints | None = None) -> None:
        self._conn = connection
        self._insert = insert_for(connection)
        self._hints = AccountHints() if hints is None else hints

    async def add(self, referral: Referral) -> bool:
        statement = (
            self._insert(referrals)
            .values(_to_row(referral))
            .on_conflict_do_nothing(index_elements=["user_id"])
            .returning(referrals.c.user_id)
        )
        if (await self._conn.execute(statement)).first() is None:
            return False
        # The profile shows who referred the user; the referral row is the truth.
        await self._conn.execute(
            update(users)
            .where(users.c.id == referral.user_id, users.c.referred_by.is_(None))
            .values(referred_by=referral.referrer_id)
        )
        await self._conn.execute(_FLAG, {"where_user_id": referral.user_id})
        self._hints.forget(referral.user_id)
        return True

    async def get(self, user_id: str, *, for_update: bool = False) -> Referral | None:
        if self._hints.no_referral(user_id):
            return None
        statement = _GET_FOR_UPDATE if for_update else _GET
        row = (await self._conn.execute(statement, {"user_id": user_id})).first()
        return None if row is None else _from_row(row)

    async def save(self, referral: Referral) -> None:
        row = _to_row(referral)
        await self._conn.execute(
            update(referrals)
            .where(referrals.c.user_id == referral.user_id)
            .values({name: row[name] for name in _DECISION})
        )

    async def take_use(self, referrer_id: str, max_uses: int) -> bool:
        statement = (
            self._insert(referral_uses)
            .values(referrer_id=referrer_id, uses=1)
            .on_conflict_do_update(
                index_elements=["referrer_id"],
                set_={"uses": referral_uses.c.uses + 1},
                where=referral_uses.c.uses < max_uses,
            )
            .returning(referral_uses.c.uses)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def release_use(self, referrer_id: str) -> None:
        await self._conn.execute(
            update(referral_uses)
            .where(referral_uses.c.referrer_id == referrer_id, referral_uses.c.uses > 0)
            .values(uses=referral_uses.c.uses - 1)
        )

    async def uses(self, referrer_id: str) -> int:
        statement = select(referral_uses.c.uses).where(referral_uses.c.referrer_id == referrer_id)
        found: int | None = (await self._conn.execute(statement)).scalar_one_or_none()
        return found or 0

    async def tally(self, referrer_id: str) -> Sequence[StatusTally]:
        statement = (
            select(
                referrals.c.status,
                func.count().label("count"),
                func.coalesce(func.sum(referrals.c.bonus_credits), 0).label("bonus"),
            )
            .where(referrals.c.referrer_id == referrer_id)
            .group_by(referrals.c.status)
        )
        rows = (await self._conn.execute(statement)).all()
        return [StatusTally(ReferralStatus(r.status), r.count, int(r.bonus)) for r in rows]


def _to_row(referral: Referral) -> dict[str, Any]:
    return {
        "user_id": referral.user_id,
        "referrer_id": referral.referrer_id,
        "status": referral.status.value,
        "min_purchase": referral.terms.min_purchase,
        "bonus_credits": referral.terms.bonus_credits,
        "max_uses": referral.terms.max_uses,
        "created_at": referral.created_at,
        "payment_id": referral.payment_id,
        "decided_at": referral.decided_at,
        "reversed_at": referral.reversed_at,
        "bonus_reversals": referral.reversals,
    }


def _from_row(row: Row[Any]) -> Referral:
    return Referral(
        user_id=row.user_id,
        referrer_id=row.referrer_id,
        terms=ReferralTerms(row.min_purchase, row.bonus_credits, row.max_uses),
        created_at=row.created_at,
        status=ReferralStatus(row.status),
        payment_id=row.payment_id,
        decided_at=row.decided_at,
        reversed_at=row.reversed_at,
        reversals=row.bonus_reversals,
    )
