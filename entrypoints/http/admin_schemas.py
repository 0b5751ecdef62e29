"""The operator API's bodies and answers; money and credits formatted here only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from application.admin.adjust_credits import Adjusted
from application.admin.ports import Totals, UserRow, Window
from application.admin.summary import Series
from application.admin.users import UserView
from application.ports import Page
from domain.admin import MAX_KEY, MAX_REASON, MIN_REASON, Adjustment
from domain.credits import credits_as_usd
from domain.user import User
from entrypoints.http.account_schemas import BalanceOut
from entrypoints.http.convert import convert
from entrypoints.http.params import RequestBody
from entrypoints.http.schemas import PaymentOut

Credits = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]


class AdjustIn(RequestBody):
    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    credits: Credits
    reason: Annotated[str, msgspec.Meta(min_length=MIN_REASON, max_length=MAX_REASON)]
    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_KEY)]
    # A debit below the available credits is refused unless this records it as debt.
    allow_debt: bool = False

    def adjustment(self) -> Adjustment:
        return Adjustment(
            self.user_id, self.credits, self.reason, self.idempotency_key, self.allow_debt
        )


class AdjustedOut(msgspec.Struct):
    entry_id: int
    user_id: str
    credits: int
    balance_after: int
    reason: str
    admin_key_id: str
    created_at: datetime
    replayed: bool

    @classmethod
    def of(cls, done: Adjusted) -> AdjustedOut:
        return convert(done.adjustment, cls, replayed=done.replayed)


class AdminUserOut(msgspec.Struct):
    id: str
    email: str
    is_admin: bool
    created_at: datetime
    referral_code: str | None
    referred_by: str | None

    @classmethod
    def of(cls, user: User) -> AdminUserOut:
        return convert(user, cls)


class UserRowOut(msgspec.Struct):
    user: AdminUserOut
    balance: BalanceOut


class UsersPage(msgspec.Struct):
    users: list[UserRowOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[UserRow]) -> UsersPage:
        rows = [UserRowOut(AdminUserOut.of(r.user), BalanceOut.of(r.account)) for r in page.items]
        return cls(rows, page.next_cursor)


class UserViewOut(msgspec.Struct):
    """``sections``: one per capability that keeps something about the user
    (``referral``, ``trial``, ``subscription``, ``holds``, ``disputes``); a section
    with nothing to show has no key. ``rows`` in a section are a table (holds, disputes)."""

    user: AdminUserOut
    balance: BalanceOut
    recent_payments: list[PaymentOut]
    sections: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, view: UserView) -> UserViewOut:
        return cls(
            AdminUserOut.of(view.user),
            BalanceOut.of(view.account),
            [PaymentOut.of(p) for p in view.recent_payments],
            {name: dict(section) for name, section in view.sections.items()},
        )


class CurrencyOut(msgspec.Struct):
    currency: str
    gross: int
    refunded: int
    disputed: int
    net: int


class StatusOut(msgspec.Struct):
    status: str
    currency: str
    count: int
    amount: int


class KindOut(msgspec.Struct):
    kind: str
    added: int
    removed: int


class OutstandingOut(msgspec.Struct):
    """The liability: credits users may still spend, at face value (1 credit = $0.01)."""

    credits: int
    usd: str
    debt_credits: int
    net_credits: int


class SummaryOut(msgspec.Struct):
    start: datetime
    end: datetime
    money: list[CurrencyOut]
    credits_granted: dict[str, int]
    credits_spent: int
    credits_expired: int
    credits_by_kind: list[KindOut]
    opening: OutstandingOut
    outstanding: OutstandingOut
    payments_by_status: list[StatusOut]
    webhook_events: dict[str, int]

    @classmethod
    def of(cls, span: Window, t: Totals) -> SummaryOut:
        removed = {k.kind.value: k.removed for k in t.credits_by_kind}
        return cls(
            start=span.start,
            end=span.end,
            money=[convert(m, CurrencyOut, net=m.net) for m in t.money],
            credits_granted={k.kind.value: k.added for k in t.credits_by_kind if k.added},
            credits_spent=t.credits_spent,
            credits_expired=removed.get("expiry", 0),
            credits_by_kind=[KindOut(k.kind.value, k.added, k.removed) for k in t.credits_by_kind],
            opening=_outstanding(t.opening.credits, t.opening.debt),
            outstanding=_outstanding(t.closing.credits, t.closing.debt),
            payments_by_status=[convert(s, StatusOut) for s in t.payments_by_status],
            webhook_events=dict(t.webhook_outcomes),
        )


def _outstanding(credits: int, debt: int) -> OutstandingOut:
    return OutstandingOut(credits, credits_as_usd(credits), debt, credits - debt)


class PointOut(msgspec.Struct):
    date: date
    value: int


class SeriesOut(msgspec.Struct):
    metric: str
    interval: str
    currency: str
    points: list[PointOut]

    @classmethod
    def of(cls, series: Series) -> SeriesOut:
        points = [PointOut(day, value) for day, value in series.points]
        return cls(series.metric.value, "day", series.currency, points)


class AdminPaymentsPage(msgspec.Struct):
    payments: list[PaymentOut]
    next_cursor: str | None
