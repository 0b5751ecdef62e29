"""The admin page's reads: sign-in, the summary with its chart, payments (and their
CSV), users and one user's view."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from application.admin.ports import Metric, PaymentFilter, Totals, UserRow, Window
from application.admin.summary import Series
from application.admin.users import UserView
from application.ports import Clock, Page
from domain.errors import DomainError, Unauthenticated
from domain.ledger import LedgerEntry
from domain.payment import Payment, PaymentStatus
from entrypoints.http.admin_csv import csv_lines
from entrypoints.http.admin_page.access import (
    PUBLIC_URL,
    SignInRequired,
    admin_principal,
    operator,
    sessions_of,
    to_sign_in,
)
from entrypoints.http.admin_page.chart import chart
from entrypoints.http.admin_page.rendering import page
from entrypoints.http.admin_page.security import HEADERS, check_origin, is_https
from entrypoints.http.admin_page.sessions import COOKIE, LIFETIME_SECONDS, LOGIN_COOKIE
from entrypoints.http.admin_params import payment_filter
from entrypoints.http.params import UseCase

CHART_DAYS = 30
SERIES = (
    (Metric.GROSS, "Gross paid", "#1f5fbf"),
    (Metric.REFUNDED, "Refunded", "#b3261e"),
    (Metric.CREDITS_GRANTED, "Credits granted", "#1b7a3a"),
    (Metric.CREDITS_SPENT, "Credits spent", "#7a4a00"),
)


def _cookie(request: Request[Any, Any, Any], name: str, value: str, max_age: int) -> Cookie:
    https = is_https(request, request.app.state.get(PUBLIC_URL, ""))
    return Cookie(
        key=name,
        value=value,
        path="/admin",
        max_age=max_age,
        httponly=True,
        secure=https,
        samesite="strict",
    )


class AdminPageController(Controller):
    path = "/admin"
    include_in_schema = False
    exception_handlers = {SignInRequired: to_sign_in}

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[str]:
        token = secrets.token_urlsafe(32)
        response = page("login.html", csrf=token)
        response.cookies.append(_cookie(request, LOGIN_COOKIE, token, 600))
        return response

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        check_origin(request)
        form = await request.form()
        token = request.cookies.get(LOGIN_COOKIE, "")
        if not token or not secrets.compare_digest(token, str(form.get("csrf", ""))):
            return page("login.html", 403, csrf="", error="The form expired; reload the page.")
        api_key = str(form.get("api_key", "")).strip()
        try:
            await admin_principal(request, api_key)
        except Unauthenticated:
            retry = secrets.token_urlsafe(32)
            response = page("login.html", 403, csrf=retry, error="Not an operator key.")
            response.cookies.append(_cookie(request, LOGIN_COOKIE, retry, 600))
            return response
        session_id, _ = sessions_of(request).open(api_key)
        response: Response[Any] = Redirect("/admin", status_code=303, headers=HEADERS)
        response.cookies.append(_cookie(request, COOKIE, session_id, LIFETIME_SECONDS))
        response.cookies.append(_cookie(request, LOGIN_COOKIE, "", 0))
        return response

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        check_origin(request)
        signed_in = await operator(request)
        form = await request.form()
        if signed_in.session.csrf_ok(str(form.get("csrf", ""))):
            sessions_of(request).close(request.cookies.get(COOKIE))
        response: Response[Any] = Redirect("/admin/login", status_code=303, headers=HEADERS)
        response.cookies.append(_cookie(request, COOKIE, "", 0))
        return response

    @get("/")
    async def summary(
        self,
        request: Request[Any, Any, Any],
        clock: NamedDependency[Clock],
        admin_summary: NamedDependency[UseCase[tuple[Window, Totals]]],
        admin_timeseries: NamedDependency[UseCase[Series]],
        admin_failures: NamedDependency[UseCase[tuple[Any, Any]]],
    ) -> Response[str]:
        signed_in = await operator(request)
        end = clock.now()
        start = end - timedelta(days=CHART_DAYS)
        span, totals = await admin_summary(start, end)
        lines = []
        days: list[Any] = []
        for metric, name, colour in SERIES:
            series = await admin_timeseries(metric.value, start, end)
            days = [day for day, _ in series.points]
            lines.append((name, colour, [value for _, value in series.points]))
        deliveries, failing = await admin_failures()
        return page(
            "summary.html",
            csrf=signed_in.session.csrf,
            span=span,
            totals=totals,
            chart=chart(days, lines),
            deliveries=deliveries,
            failing=failing,
        )

    @get("/payments")
    async def payments(
        self,
        request: Request[Any, Any, Any],
        admin_payments: NamedDependency[UseCase[Page[Payment]]],
    ) -> Response[str]:
        signed_in = await operator(request)
        query = request.query_params
        try:
            where = _filter(query)
            found = await admin_payments(where, 50, query.get("cursor") or None)
        except DomainError as exc:
            where, found, error = PaymentFilter(), None, exc.message
        else:
            error = None
        return page(
            "payments.html",
            400 if error else 200,
            csrf=signed_in.session.csrf,
            query=dict(query),
            found=found,
            error=error,
            statuses=list(PaymentStatus),
            filters=urlencode({k: query.get(k) or "" for k in ("status", "user_id", "from", "to")}),
        )

    @get("/payments.csv")
    async def payments_csv(
        self,
        request: Request[Any, Any, Any],
        export_payments: NamedDependency[Callable[..., AsyncIterator[Payment]]],
    ) -> Stream:
        await operator(request)
        where = _filter(request.query_params)
        return Stream(
            csv_lines(export_payments(where)),
            media_type="text/csv; charset=utf-8",
            headers={**HEADERS, "Content-Disposition": 'attachment; filename="payments.csv"'},
        )

    @get("/users")
    async def users(
        self,
        request: Request[Any, Any, Any],
        search_users: NamedDependency[UseCase[Page[UserRow]]],
    ) -> Response[str]:
        signed_in = await operator(request)
        q = (request.query_params.get("q") or "").strip()
        found = await search_users(None, q[:254], 50, request.query_params.get("cursor") or None)
        return page("users.html", csrf=signed_in.session.csrf, q=q, found=found)

    @get("/users/{user_id:str}")
    async def user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        view_user: NamedDependency[UseCase[UserView]],
        user_ledger: NamedDependency[UseCase[Page[LedgerEntry]]],
    ) -> Response[str]:
        signed_in = await operator(request)
        view = await view_user(user_id)
        ledger = await user_ledger(user_id, 50, request.query_params.get("cursor") or None)
        return page(
            "user.html",
            csrf=signed_in.session.csrf,
            view=view,
            ledger=ledger,
            notice=request.query_params.get("done"),
        )


def _filter(query: Any) -> PaymentFilter:
    return payment_filter(
        query.get("status") or None,
        query.get("user_id") or None,
        query.get("from") or None,
        query.get("to") or None,
    )
