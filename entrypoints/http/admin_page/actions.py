"""The admin page's changes: adjust a user's credits, refund a payment.

Each is two posts: the first shows what is about to happen and asks to confirm it,
the second (carrying an idempotency key made for the confirmation, so a double
click changes nothing twice) does it and sends the operator back to the user.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from application.admin.adjust_credits import Adjusted
from application.refunds.refund_payment import RefundPayment, RefundResult
from domain.admin import Adjustment
from domain.errors import DomainError, Forbidden, ValidationFailed
from entrypoints.http.admin_page.access import Operator, SignInRequired, operator, to_sign_in
from entrypoints.http.admin_page.rendering import page
from entrypoints.http.admin_page.security import HEADERS, check_origin
from entrypoints.http.params import UseCase


async def _checked_form(request: Request[Any, Any, Any]) -> tuple[Operator, dict[str, str]]:
    check_origin(request)
    signed_in = await operator(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not signed_in.session.csrf_ok(form.get("csrf")):
        raise Forbidden("the form's CSRF token is missing or wrong", code="csrf_failed")
    return signed_in, form


def _int(form: dict[str, str], name: str) -> int:
    try:
        return int(form.get(name, "").strip())
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number") from None


def _back(user_id: str, done: str) -> Response[Any]:
    target = f"/admin/users/{quote(user_id, safe='')}?done={done}"
    return Redirect(target, status_code=303, headers=HEADERS)


class AdminActionsController(Controller):
    path = "/admin"
    include_in_schema = False
    exception_handlers = {SignInRequired: to_sign_in}

    @post("/users/{user_id:str}/adjust")
    async def adjust(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        adjust_credits: NamedDependency[UseCase[Adjusted]],
    ) -> Response[Any]:
        signed_in, form = await _checked_form(request)
        try:
            adjustment = Adjustment(
                user_id,
                _int(form, "credits"),
                form.get("reason", ""),
                form.get("idempotency_key") or secrets.token_urlsafe(16),
                allow_debt=form.get("allow_debt") == "yes",
            )
            if form.get("confirmed") != "yes":
                return page("confirm_adjust.html", csrf=signed_in.session.csrf, a=adjustment)
            assert signed_in.principal.key_id is not None
            await adjust_credits(adjustment, signed_in.principal.key_id)
        except DomainError as exc:
            return page(
                "failed.html",
                exc.status,
                csrf=signed_in.session.csrf,
                message=exc.message,
                user_id=user_id,
            )
        return _back(user_id, "adjusted")

    @post("/payments/{payment_id:str}/refund")
    async def refund(
        self,
        request: Request[Any, Any, Any],
        payment_id: FromPath[str],
        refund_payment: NamedDependency[UseCase[RefundResult]],
    ) -> Response[Any]:
        signed_in, form = await _checked_form(request)
        user_id = form.get("user_id", "")
        try:
            amount = _int(form, "amount") if form.get("amount", "").strip() else None
            command = RefundPayment(
                payment_id,
                None,
                amount,
                form.get("reason") or None,
                form.get("idempotency_key") or secrets.token_urlsafe(16),
            )
            if form.get("confirmed") != "yes":
                return page(
                    "confirm_refund.html",
                    csrf=signed_in.session.csrf,
                    r=command,
                    user_id=user_id,
                )
            await refund_payment(command)
        except DomainError as exc:
            return page(
                "failed.html",
                exc.status,
                csrf=signed_in.session.csrf,
                message=exc.message,
                user_id=user_id,
            )
        return _back(user_id, "refunded")
