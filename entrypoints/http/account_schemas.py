"""Request and response bodies of users, API keys, balances and ledger history.

A stored key's hash and a ledger entry's idempotency key never leave the service:
each response declares the fields it shows, converted from the entity by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar.datastructures import ResponseHeader

from application.accounts.users import CreatedUser, IssuedKey
from application.ports import Page
from domain.credits import credits_as_usd
from domain.ledger import Account, LedgerEntry
from domain.trial import Trial
from domain.user import ApiKey, User
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody
from entrypoints.http.reward_schemas import TrialOut


class UserIn(RequestBody):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    referred_by_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    is_admin: bool = False


class ApiKeyIn(RequestBody):
    name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class UserCreatedOut(msgspec.Struct):
    user_id: str
    email: str
    api_key: str
    referral_code: str | None
    is_admin: bool

    @classmethod
    def of(cls, created: CreatedUser) -> UserCreatedOut:
        user = created.user
        return convert(user, cls, user_id=user.id, api_key=created.api_key)


class ProfileOut(msgspec.Struct):
    user_id: str
    email: str
    is_admin: bool
    referral_code: str | None
    referred_by: str | None
    created_at: datetime
    trial: TrialOut | None = None  # null: no trial (off, or the email had one)

    @classmethod
    def of(cls, user: User, trial: Trial | None, now: datetime) -> ProfileOut:
        shown = TrialOut.of(trial, now) if trial else None
        return convert(user, cls, user_id=user.id, trial=shown)


class ApiKeyOut(msgspec.Struct):
    id: str
    prefix: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return convert(key, cls)


NEXT_PAGE_HEADERS = [
    ResponseHeader(
        name="X-Next-Cursor",
        description="The cursor of the next page; absent on the last page.",
        required=False,
        documentation_only=True,
    ),
    ResponseHeader(
        name="Link",
        description='The next page as ``<url>; rel="next"``; absent on the last page.',
        required=False,
        documentation_only=True,
    ),
]


def next_page_headers(path: str, limit: int | None, page: Page[Any]) -> dict[str, str]:
    """Pages of a list whose body is a bare JSON array: the body cannot say more."""
    if page.next_cursor is None:
        return {}
    query = urlencode(
        {**({"limit": limit} if limit is not None else {}), "cursor": page.next_cursor}
    )
    return {"X-Next-Cursor": page.next_cursor, "Link": f'<{path}?{query}>; rel="next"'}


class ApiKeyCreatedOut(msgspec.Struct):
    id: str
    api_key: str
    prefix: str
    name: str | None
    created_at: datetime

    @classmethod
    def of(cls, issued: IssuedKey) -> ApiKeyCreatedOut:
        return convert(issued.key, cls, api_key=issued.plaintext)


class BalanceOut(msgspec.Struct):
    user_id: str
    credits: int
    balance_usd: str
    available_credits: int
    held_credits: int

    @classmethod
    def of(cls, a: Account) -> BalanceOut:
        return convert(
            a, cls, credits=a.balance, available_credits=a.available, held_credits=a.held
        )


class TransactionOut(msgspec.Struct):
    id: int
    credits: int
    kind: str
    reference_type: str
    reference_id: str
    balance_after: int
    created_at: datetime
    expires_at: datetime | None
    credits_usd: str

    @classmethod
    def of(cls, e: LedgerEntry) -> TransactionOut:
        return convert(e, cls, credits_usd=credits_as_usd(e.credits))


class TransactionsPage(msgspec.Struct):
    transactions: list[TransactionOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[LedgerEntry]) -> TransactionsPage:
        return cls([TransactionOut.of(e) for e in page.items], page.next_cursor)
