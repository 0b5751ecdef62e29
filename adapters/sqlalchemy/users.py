"""Users and their API keys on SQL. Only key hashes and prefixes are ever stored."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, literal, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pagination import check_limit, decode_time_and_id, encode_cursor
from adapters.sqlalchemy.tables import UtcDateTime, api_keys, users
from application.ports import Page
from domain.errors import Conflict, EmailTaken
from domain.user import ApiKey, User

_KEY_OWNER = (
    select(*(c.label(f"key_{c.name}") for c in api_keys.c), *users.c)
    .join_from(api_keys, users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)
"""Authentication: the key by its unique hash and its owner, in one statement."""


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, user: User) -> None:
        """Insert the user; a taken email raises ``EmailTaken``.

        The insert runs in a SAVEPOINT: on PostgreSQL a unique violation aborts the
        whole transaction, and the caller must be able to carry on (answer 409, or
        retry with another referral code) in the same unit of work.
        """
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(users).values(asdict(user)))
        except IntegrityError as exc:
            taken = select(func.count()).select_from(users).where(users.c.email == user.email)
            if (await self._conn.execute(taken)).scalar_one():
                raise EmailTaken(f"{user.email} is already registered") from exc
            raise Conflict(f"user {user.id} or referral code {user.referral_code} exists") from exc

    async def get(self, user_id: str) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.id == user_id))).first()
        return None if row is None else User(**row._mapping)

    async def find_by_referral_code(self, code: str) -> User | None:
        statement = select(users).where(users.c.referral_code == code)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else User(**row._mapping)

    async def add_api_key(self, key: ApiKey) -> None:
        await self._conn.execute(insert(api_keys).values(asdict(key)))

    async def find_key_owner(self, key_hash: str) -> tuple[ApiKey, User] | None:
        row = (await self._conn.execute(_KEY_OWNER, {"key_hash": key_hash})).first()
        if row is None:
            return None
        values = row._mapping
        key = ApiKey(**{c.name: values[f"key_{c.name}"] for c in api_keys.c})
        return key, User(**{c.name: values[c.name] for c in users.c})

    async def count_active_api_keys(self, user_id: str) -> int:
        """The user's row is locked first (FOR UPDATE; SQLite has one writer anyway)."""
        lock = select(users.c.id).where(users.c.id == user_id).with_for_update()
        await self._conn.execute(lock)
        active = (
            select(func.count())
            .select_from(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
        )
        return int((await self._conn.execute(active)).scalar_one())

    async def list_api_keys(self, user_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        """Revoked keys included (their ``revoked_at`` is set), oldest first."""
        check_limit(limit)
        statement = (
            select(api_keys)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
            .limit(limit + 1)
        )
        if cursor is not None:
            created_at, key_id = decode_time_and_id(cursor)
            statement = statement.where(
                tuple_(api_keys.c.created_at, api_keys.c.id) > (created_at, key_id)
            )
        rows = (await self._conn.execute(statement)).all()
        items = [_key(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(items[-1].created_at.isoformat(), items[-1].id)
        return Page(items, next_cursor)

    async def revoke_api_key(self, user_id: str, key_id: str, now: datetime) -> bool:
        """True when the key is the user's; revoking twice keeps the first revocation time."""
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.user_id == user_id)
            # Typed literal: a bare ``now`` inside a function would skip UtcDateTime.
            .values(revoked_at=func.coalesce(api_keys.c.revoked_at, literal(now, UtcDateTime)))
        )
        return (await self._conn.execute(statement)).rowcount == 1


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(**row._mapping)
