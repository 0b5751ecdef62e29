"""Request and response bodies of the spending API (debits, holds, balances)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.spending.capture_hold import Captured
from application.spending.spend import DebitResult, Outcome
from domain.errors import DomainError
from domain.holds import Hold
from domain.ledger import Account
from domain.spending import MAX_BATCH, MAX_CLIENT_KEY, MAX_DESCRIPTION, Debit
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody

Credits = Annotated[int, msgspec.Meta(gt=0, le=1_000_000_000)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLIENT_KEY)]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Metadata = Annotated[
    dict[Annotated[str, msgspec.Meta(max_length=40)], Annotated[str, msgspec.Meta(max_length=500)]],
    msgspec.Meta(max_length=20),
]


class DebitIn(RequestBody):
    user_id: UserId
    credits: Credits
    idempotency_key: Key
    description: Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)] | None = None
    metadata: Metadata | None = None

    def debit(self) -> Debit:
        return Debit(
            self.user_id, self.credits, self.idempotency_key, self.description, self.metadata or {}
        )


class DebitsIn(RequestBody):
    debits: Annotated[list[DebitIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class DebitOut(msgspec.Struct):
    entry_id: int
    balance: int
    available: int

    @classmethod
    def of(cls, result: DebitResult) -> DebitOut:
        return convert(result, cls)


class DebitItemOut(msgspec.Struct, omit_defaults=True):
    """One debit of a batch: ``status`` as the single endpoint would answer it."""

    idempotency_key: str
    status: int
    entry_id: int | None = None
    balance: int | None = None
    available: int | None = None
    error: dict[str, str | int] | None = None

    @classmethod
    def of(cls, key: str, outcome: Outcome) -> DebitItemOut:
        if isinstance(outcome, DomainError):
            error: dict[str, str | int] = {"code": outcome.code, "message": outcome.message}
            error |= getattr(outcome, "details", {})
            return cls(key, outcome.status, error=error)
        return cls(key, 200, outcome.entry_id, outcome.balance, outcome.available)


class DebitsOut(msgspec.Struct):
    results: list[DebitItemOut]
    succeeded: int
    refused: int


class BalanceOut(msgspec.Struct):
    user_id: str
    balance: int
    held: int
    available: int

    @classmethod
    def of(cls, account: Account) -> BalanceOut:
        return cls(account.user_id, account.balance, account.held, account.available)


class HoldIn(RequestBody):
    user_id: UserId
    credits: Credits
    idempotency_key: Key
    ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=7 * 24 * 3600)]


class CaptureIn(RequestBody):
    credits: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]


class HoldOut(msgspec.Struct):
    id: str
    user_id: str
    credits: int
    status: str
    created_at: datetime
    expires_at: datetime | None
    captured: int

    @classmethod
    def of(cls, hold: Hold) -> HoldOut:
        return convert(hold, cls, status=hold.status.value)


class CapturedOut(msgspec.Struct):
    hold: HoldOut
    entry_id: int | None
    balance: int
    available: int

    @classmethod
    def of(cls, captured: Captured) -> CapturedOut:
        return cls(
            HoldOut.of(captured.hold), captured.entry_id, captured.balance, captured.available
        )
