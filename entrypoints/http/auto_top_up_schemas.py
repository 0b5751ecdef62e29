"""Bodies of ``/api/users/me/auto-top-up``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.auto_top_up.settings import AutoTopUpView, SetAutoTopUp
from domain.auto_top_up import AutoTopUp
from entrypoints.http.params import RequestBody

Amount = Annotated[int, msgspec.Meta(ge=1, le=10**9)]


class AutoTopUpIn(RequestBody):
    """``amount`` and ``monthly_limit`` in minor units of ``currency`` (usd unless
    given); with ``package_id``, the amount is the package's price (and may be left out)."""

    enabled: bool
    threshold_credits: Amount
    monthly_limit: Amount
    amount: Amount | None = None
    currency: Annotated[str, msgspec.Meta(pattern="^[a-z]{3}$")] | None = None
    package_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None

    def command(self) -> SetAutoTopUp:
        return SetAutoTopUp(
            self.enabled,
            self.threshold_credits,
            self.monthly_limit,
            self.amount,
            self.currency,
            self.package_id,
        )


class TopUpOut(msgspec.Struct):
    """``payment_id``: the last off-session charge; ``checkout_payment_id`` and, while
    ``action_required``, ``action_url``: the Checkout where the user pays instead."""

    id: str
    status: str
    amount: int
    currency: str
    attempts: int
    payment_id: str | None
    last_error: str | None
    created_at: datetime
    checkout_payment_id: str | None
    action_url: str | None

    @classmethod
    def of(cls, t: AutoTopUp) -> TopUpOut:
        return cls(
            t.id, t.status.value, t.amount, t.currency, t.attempts, t.payment_id,
            t.last_error, t.created_at, t.checkout_payment_id, t.action_url,
        )  # fmt: skip


class AutoTopUpOut(msgspec.Struct):
    """``enabled`` false and the rest null when never set."""

    enabled: bool
    threshold_credits: int | None
    amount: int | None
    currency: str | None
    package_id: str | None
    monthly_limit: int | None
    this_month: list[TopUpOut]
    charged_this_month: int

    @classmethod
    def of(cls, view: AutoTopUpView) -> AutoTopUpOut:
        s = view.settings
        top_ups = [TopUpOut.of(t) for t in view.this_month]
        charged = sum(t.amount for t in view.this_month if t.status.value == "succeeded")
        if s is None:
            return cls(False, None, None, None, None, None, top_ups, charged)
        return cls(
            s.enabled, s.threshold_credits, s.amount, s.currency, s.package_id,
            s.monthly_limit, top_ups, charged,
        )  # fmt: skip
