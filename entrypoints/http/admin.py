"""/api/admin: adjustments, users, payments (JSON pages or CSV), the summary, the
chart series, and the CLI's ledger and reconciliation checks. Admin keys only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from application.accounts.users import Principal
from application.admin.adjust_credits import Adjusted
from application.admin.ports import Metric, Totals, UserRow, Window
from application.admin.summary import Series
from application.admin.users import UserView
from application.batch import JobReport, NoControl
from application.ports import Page
from application.reconciliation.reconcile import ReconcilePolicy
from domain.errors import DomainError, ValidationFailed
from domain.ledger import LedgerEntry
from domain.ledger_checks import LedgerMismatch
from domain.payment import Payment, PaymentStatus
from entrypoints import verify_report as verify_json
from entrypoints.batch import report as job_report
from entrypoints.batch.commands import parse_since
from entrypoints.http import admin_schemas as s
from entrypoints.http.account_schemas import TransactionsPage
from entrypoints.http.admin_csv import csv_lines
from entrypoints.http.admin_params import From, To, moment, payment_filter
from entrypoints.http.auth import requires_admin
from entrypoints.http.openapi import errors
from entrypoints.http.params import Cursor, Limit, UseCase, strict_body
from entrypoints.http.schemas import PaymentOut

Query = Annotated[str | None, QueryParameter(required=False, max_length=254)]
Export = Callable[..., AsyncIterator[Payment]]
CSV_NOTE = (
    "JSON pages; every match as CSV with Accept: text/csv or format=csv "
    "(streamed; limit and cursor do not apply)."
)


def wants_csv(request: Request[Any, Any, Any], output: str | None) -> bool:
    return output == "csv" or "text/csv" in request.headers.get("accept", "")


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [requires_admin]

    @post("/credits/adjust", status_code=200, responses=errors(402, 404, 409, 422))
    async def adjust(
        self,
        data: JSONBody[s.AdjustIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        adjust_credits: NamedDependency[UseCase[Adjusted]],
    ) -> s.AdjustedOut:
        data = await strict_body(request, s.AdjustIn)
        if principal.key_id is None:
            raise ValidationFailed("the acting key has no id", code="user_key_required")
        return s.AdjustedOut.of(await adjust_credits(data.adjustment(), principal.key_id))

    @get("/users")
    async def users(
        self,
        search_users: NamedDependency[UseCase[Page[UserRow]]],
        email: Query = None,
        q: Query = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.UsersPage:
        return s.UsersPage.of(await search_users(email, q, limit, cursor))

    @get("/users/{user_id:str}", responses=errors(404))
    async def user(
        self, user_id: FromPath[str], view_user: NamedDependency[UseCase[UserView]]
    ) -> s.UserViewOut:
        return s.UserViewOut.of(await view_user(user_id))

    @get("/users/{user_id:str}/ledger", responses=errors(404))
    async def ledger(
        self,
        user_id: FromPath[str],
        user_ledger: NamedDependency[UseCase[Page[LedgerEntry]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> TransactionsPage:
        return TransactionsPage.of(await user_ledger(user_id, limit, cursor))

    @get("/payments", description=CSV_NOTE, responses=errors(422))
    async def payments(
        self,
        request: Request[Any, Any, Any],
        admin_payments: NamedDependency[UseCase[Page[Payment]]],
        export_payments: NamedDependency[Export],
        status: Annotated[PaymentStatus | None, QueryParameter(required=False)] = None,
        user_id: Query = None,
        start: From = None,
        end: To = None,
        limit: Limit = None,
        cursor: Cursor = None,
        output: Annotated[
            str | None, QueryParameter(name="format", required=False, pattern="^(json|csv)$")
        ] = None,
    ) -> Response[s.AdminPaymentsPage]:
        where = payment_filter(status.value if status else None, user_id, start, end)
        if wants_csv(request, output):
            return Stream(
                csv_lines(export_payments(where)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="payments.csv"'},
            )
        page = await admin_payments(where, limit, cursor)
        out = s.AdminPaymentsPage([PaymentOut.of(p) for p in page.items], page.next_cursor)
        return Response(out, media_type=MediaType.JSON)

    @get("/summary", responses=errors(422))
    async def summary(
        self,
        admin_summary: NamedDependency[UseCase[tuple[Window, Totals]]],
        start: From = None,
        end: To = None,
    ) -> s.SummaryOut:
        span, totals = await admin_summary(moment(start, "from"), moment(end, "to"))
        return s.SummaryOut.of(span, totals)

    @get("/timeseries", responses=errors(422))
    async def timeseries(
        self,
        admin_timeseries: NamedDependency[UseCase[Series]],
        metric: Annotated[str, QueryParameter(enum=list(Metric))],
        start: From = None,
        end: To = None,
        interval: Annotated[str, QueryParameter(enum=["day"])] = "day",
        currency: Annotated[str, QueryParameter(pattern="^[a-zA-Z]{3}$")] = "usd",
    ) -> s.SeriesOut:
        series = await admin_timeseries(
            metric, moment(start, "from"), moment(end, "to"), interval, currency
        )
        return s.SeriesOut.of(series)

    @post("/ledger/verify", status_code=200)
    async def verify(
        self, verify_ledger: NamedDependency[UseCase[list[LedgerMismatch]]]
    ) -> dict[str, Any]:
        return verify_json.as_json(await verify_ledger())

    @post("/reconcile", status_code=200, responses=errors(422, 503))
    async def reconcile(
        self,
        reconcile: NamedDependency[UseCase[JobReport]],
        since: Annotated[str, QueryParameter(pattern=r"^[0-9]{1,6}[smhd]$")] = "72h",
    ) -> dict[str, Any]:
        """A dry run of ``creditline batch reconcile``: drift is reported, never repaired."""
        try:
            window: timedelta = parse_since(since)
        except ValueError as exc:
            raise DomainError(str(exc), code="invalid_since") from None
        started = time.monotonic()
        policy = ReconcilePolicy(since=window, repair=False)
        done = await reconcile(policy=policy, control=NoControl())
        return job_report.as_dict(done, time.monotonic() - started)
