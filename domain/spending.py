"""Spending credits: debits a product's gateway makes per request, and their keys.

A debit is covered by the *available* balance (balance - active holds), never by
debt; the database enforces it in the statement that moves the balance
(``domain.lots.covers``). The client's idempotency key is scoped to its user and
names one request: a replay answers what the first answered, and the same key with
other fields is refused (``idempotency_key_reused``), as Stripe does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from domain.errors import IdempotencyKeyReused, ValidationFailed
from domain.ledger import EntryKind, Posting

MAX_CLIENT_KEY = 180  # "debit:<user id, up to 64>:<key>" must fit the ledger's 255
MAX_BATCH = 1000
MAX_DESCRIPTION = 500


def check_client_key(key: str) -> str:
    if not key or len(key) > MAX_CLIENT_KEY or not key.isprintable():
        raise ValidationFailed(
            f"idempotency_key must be 1-{MAX_CLIENT_KEY} printable characters",
            code="invalid_idempotency_key",
        )
    return key


@dataclass(frozen=True, slots=True)
class Debit:
    """One request to spend ``credits`` of ``user_id``'s available balance."""

    user_id: str
    credits: int
    idempotency_key: str
    description: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.credits <= 0:
            raise ValidationFailed("credits must be a positive integer", code="invalid_credits")
        check_client_key(self.idempotency_key)
        if self.description is not None and len(self.description) > MAX_DESCRIPTION:
            raise ValidationFailed(f"description is longer than {MAX_DESCRIPTION} characters")

    @property
    def fingerprint(self) -> str:
        return fingerprint("debit", self.user_id, self.credits, self.description, self.metadata)

    @property
    def ledger_key(self) -> str:
        return f"debit:{self.user_id}:{self.idempotency_key}"

    def posting(self) -> Posting:
        return Posting(
            user_id=self.user_id,
            credits=-self.credits,
            kind=EntryKind.USAGE_DEBIT,
            reference_type="request",
            reference_id=self.idempotency_key,
            idempotency_key=self.ledger_key,
        )


def fingerprint(operation: str, *fields: object) -> str:
    """What a key was first used for: the same key with another fingerprint is a reuse."""
    canonical = json.dumps([operation, *fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SpendRequest:
    """A client key claimed for one operation, and what it was asked."""

    idempotency_key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer to a key: what a replay answers again.

    ``result_id`` is the ledger entry (a debit) or the hold (a hold) the key made.
    """

    fingerprint: str
    result_id: str | None
    balance: int | None
    available: int | None

    def replay_of(self, request: SpendRequest) -> StoredAnswer:
        if request.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                f"idempotency_key {request.idempotency_key} was used with other fields"
            )
        return self


def plan(available: int, debits: Iterable[int]) -> list[bool]:
    """Which debits, in order, the available balance covers: each one that fits is taken,
    one that does not is refused and takes nothing, so a refused debit never refuses
    the ones after it."""
    taken: list[bool] = []
    for credits in debits:
        fits = credits <= available
        taken.append(fits)
        if fits:
            available -= credits
    return taken


def check_batch(debits: Sequence[Debit]) -> None:
    if not 1 <= len(debits) <= MAX_BATCH:
        raise ValidationFailed(f"a batch holds 1 to {MAX_BATCH} debits", code="invalid_batch")
    seen: set[tuple[str, str]] = set()
    for debit in debits:
        scoped = (debit.user_id, debit.idempotency_key)
        if scoped in seen:
            raise ValidationFailed(
                f"idempotency_key {debit.idempotency_key} appears twice for one user",
                code="duplicate_idempotency_key",
            )
        seen.add(scoped)
