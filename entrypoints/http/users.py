"""Users, API keys, balances and ledger history."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.accounts.users import CreatedUser, IssuedKey, Principal
from application.auto_top_up.settings import AutoTopUpView
from application.ports import Clock, Page
from application.spending.balance import BalanceView
from domain.alerts import AlertSettings
from domain.ledger import LedgerEntry
from domain.trial import Trial
from domain.user import ApiKey
from entrypoints.http import account_schemas as s
from entrypoints.http import alert_schemas as a
from entrypoints.http import auto_top_up_schemas as t
from entrypoints.http.auth import (
    RECENT_CALLERS,
    TRUSTS_RECENT_KEYS,
    RecentCallers,
    requires_admin,
)
from entrypoints.http.openapi import errors
from entrypoints.http.params import Cursor, Limit, UseCase, strict_body


class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]

    @post("/", status_code=201, guards=[requires_admin], responses=errors(409))
    async def create(
        self,
        data: JSONBody[s.UserIn],
        request: Request[Any, Any, Any],
        create_user: NamedDependency[UseCase[CreatedUser]],
    ) -> s.UserCreatedOut:
        data = await strict_body(request, s.UserIn)
        created = await create_user(
            data.email, is_admin=data.is_admin, referred_by_code=data.referred_by_code
        )
        return s.UserCreatedOut.of(created)

    @get("/me")
    async def me(
        self,
        principal: NamedDependency[Principal],
        get_trial: NamedDependency[UseCase[Trial | None]],
        clock: NamedDependency[Clock],
    ) -> s.ProfileOut:
        user = principal.require_user()
        return s.ProfileOut.of(user, await get_trial(user.id), clock.now())

    @post("/me/api-keys", status_code=201)
    async def create_key(
        self,
        data: JSONBody[s.ApiKeyIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        create_api_key: NamedDependency[UseCase[IssuedKey]],
    ) -> s.ApiKeyCreatedOut:
        data = await strict_body(request, s.ApiKeyIn)
        issued = await create_api_key(principal.require_user().id, data.name)
        return s.ApiKeyCreatedOut.of(issued)

    @patch("/me/settings", status_code=200, responses=errors(422))
    async def settings(
        self,
        data: JSONBody[a.AlertSettingsIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        update_alert_settings: NamedDependency[UseCase[AlertSettings]],
    ) -> a.AlertSettingsOut:
        data = await strict_body(request, a.AlertSettingsIn)
        user_id = principal.require_user().id
        return a.AlertSettingsOut.of(await update_alert_settings(user_id, data.changes()))

    @put("/me/auto-top-up", status_code=200, responses=errors(422))
    async def put_auto_top_up(
        self,
        data: JSONBody[t.AutoTopUpIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        set_auto_top_up: NamedDependency[UseCase[AutoTopUpView]],
    ) -> t.AutoTopUpOut:
        data = await strict_body(request, t.AutoTopUpIn)
        view = await set_auto_top_up(principal.require_user().id, data.command())
        return t.AutoTopUpOut.of(view)

    @get("/me/auto-top-up")
    async def get_auto_top_up(
        self,
        principal: NamedDependency[Principal],
        get_auto_top_up: NamedDependency[UseCase[AutoTopUpView]],
    ) -> t.AutoTopUpOut:
        return t.AutoTopUpOut.of(await get_auto_top_up(principal.require_user().id))

    @get("/me/api-keys", response_headers=s.NEXT_PAGE_HEADERS)
    async def list_keys(
        self,
        principal: NamedDependency[Principal],
        list_api_keys: NamedDependency[UseCase[Page[ApiKey]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Response[list[s.ApiKeyOut]]:
        """A bare list, as before pages existed; the next page is named in headers."""
        page = await list_api_keys(principal.require_user().id, limit, cursor)
        keys = [s.ApiKeyOut.of(k) for k in page.items]
        return Response(keys, headers=s.next_page_headers(self.path + "/me/api-keys", limit, page))

    @delete("/me/api-keys/{key_id:str}", status_code=204)
    async def revoke_key(
        self,
        key_id: FromPath[str],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        revoke_api_key: NamedDependency[UseCase[None]],
    ) -> Response[None]:
        user_id = principal.require_user().id
        await revoke_api_key(user_id, key_id)
        recent: RecentCallers | None = request.app.state.get(RECENT_CALLERS)
        if recent is not None:
            recent.forget_user(user_id)
        return Response(None, status_code=204)


class BalanceController(Controller):
    path = "/user"
    tags = ["balance"]
    opt = {TRUSTS_RECENT_KEYS: True}

    @get("/balance")
    async def balance(
        self,
        principal: NamedDependency[Principal],
        get_own_balance: NamedDependency[UseCase[BalanceView]],
    ) -> a.UserBalanceOut:
        view = await get_own_balance(principal.require_user().id)
        return a.UserBalanceOut.with_runway(view.account, view.runway_days)

    @get("/credit-transactions")
    async def transactions(
        self,
        principal: NamedDependency[Principal],
        list_entries: NamedDependency[UseCase[Page[LedgerEntry]]],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.TransactionsPage:
        page = await list_entries(principal.require_user().id, limit, cursor)
        return s.TransactionsPage.of(page)
