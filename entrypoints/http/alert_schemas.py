"""Bodies of the balance alert settings and of a user's balance with its runway."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

from domain.alerts import AlertSettings
from domain.ledger import Account
from entrypoints.http.account_schemas import BalanceOut
from entrypoints.http.params import RequestBody

Positive = Annotated[int, msgspec.Meta(ge=1, le=10**12)]


class AlertSettingsIn(RequestBody):
    """A field left out keeps its value; null turns the alert off."""

    low_balance_threshold: Positive | msgspec.UnsetType | None = msgspec.UNSET
    runway_alert_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )

    def changes(self) -> dict[str, int | None]:
        fields = ("low_balance_threshold", "runway_alert_days")
        given = {name: getattr(self, name) for name in fields}
        return {k: v for k, v in given.items() if v is not msgspec.UNSET}


class AlertSettingsOut(msgspec.Struct):
    low_balance_threshold: int | None
    runway_alert_days: int | None

    @classmethod
    def of(cls, settings: AlertSettings) -> AlertSettingsOut:
        return cls(settings.low_balance_threshold, settings.runway_alert_days)


class UserBalanceOut(BalanceOut):
    """``runway_days``: at the last seven days' rate of spending; null: no spending."""

    runway_days: float | None = None

    @classmethod
    def with_runway(cls, account: Account, runway: Decimal | None) -> UserBalanceOut:
        base = BalanceOut.of(account)
        fields = {f: getattr(base, f) for f in base.__struct_fields__}
        return cls(**fields, runway_days=None if runway is None else float(runway))
