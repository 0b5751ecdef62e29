"""Which open payments the sweep settles: a Checkout past its expiry, an old intent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.sweep import is_stale

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(hours=24)
SECOND = timedelta(seconds=1)


def payment(kind: PaymentKind, **changes: Any) -> Payment:
    base = Payment("p1", "u1", kind, 1000, "usd", 1000, PaymentStatus.PENDING, CUTOFF)
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("expires_at", "stale"),
    [(NOW - SECOND, True), (NOW, True), (NOW + SECOND, False), (None, False)],
)
def test_a_checkout_is_stale_from_its_expiry_on(expires_at: datetime | None, stale: bool) -> None:
    checkout = payment(PaymentKind.CHECKOUT, expires_at=expires_at, created_at=NOW - SECOND)
    assert is_stale(checkout, NOW, CUTOFF) is stale


@pytest.mark.parametrize(
    ("created_at", "stale"), [(CUTOFF - SECOND, True), (CUTOFF, True), (CUTOFF + SECOND, False)]
)
def test_an_intent_is_stale_once_created_before_the_cutoff(
    created_at: datetime, stale: bool
) -> None:
    """An intent never expires at the gateway; its own ``expires_at`` is ignored."""
    intent = payment(PaymentKind.PAYMENT_INTENT, created_at=created_at, expires_at=NOW + SECOND)
    assert is_stale(intent, NOW, CUTOFF) is stale


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_only_open_payments_are_stale(status: PaymentStatus) -> None:
    """Pending and failed (the customer may still retry) are open; the rest is settled."""
    checkout = payment(PaymentKind.CHECKOUT, status=status, expires_at=NOW - SECOND)
    intent = payment(PaymentKind.PAYMENT_INTENT, status=status, created_at=CUTOFF)
    is_open = status in {PaymentStatus.PENDING, PaymentStatus.FAILED}
    assert is_stale(checkout, NOW, CUTOFF) is is_open
    assert is_stale(intent, NOW, CUTOFF) is is_open
