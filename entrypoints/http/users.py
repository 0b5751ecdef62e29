"""Users, API keys, balances and ledger history."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application import queries
from application.accounts.users import (
    Principal,
    create_api_key,
    create_user,
    list_api_keys,
    revoke_api_key,
)
from application.ports import Clock, UnitOfWorkFactory
from application.rewards.trials import get_trial
from entrypoints.http import schemas as s
from entrypoints.http.params import Cursor, Limit, strict_body
from entrypoints.http.reward_schemas import TrialOut
from entrypoints.settings import Settings


class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]

    @post("/", status_code=201)
    async def create(
        self,
        data: JSONBody[s.UserIn],
        request: Request[Any, Any, Any],
        admin: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> s.UserCreatedOut:
        data = await strict_body(request, s.UserIn)
        created = await create_user(
            data.email,
            is_admin=data.is_admin,
            referred_by_code=data.referred_by_code,
            referral_terms=settings.referral_terms,
            trial_terms=settings.trial_terms,
            uow_factory=uow_factory,
            clock=clock,
        )
        u = created.user
        return s.UserCreatedOut(u.id, u.email, created.api_key, u.referral_code, u.is_admin)

    @get("/me")
    async def me(
        self,
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> s.ProfileOut:
        u = principal.require_user()
        trial = await get_trial(u.id, uow_factory=uow_factory)
        return s.ProfileOut(
            u.id,
            u.email,
            u.is_admin,
            u.referral_code,
            u.referred_by,
            u.created_at,
            TrialOut.of(trial, clock.now()) if trial else None,
        )

    @post("/me/api-keys", status_code=201)
    async def create_key(
        self,
        data: JSONBody[s.ApiKeyIn],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> s.ApiKeyCreatedOut:
        data = await strict_body(request, s.ApiKeyIn)
        issued = await create_api_key(
            principal.require_user().id, data.name, uow_factory=uow_factory, clock=clock
        )
        k = issued.key
        return s.ApiKeyCreatedOut(k.id, issued.plaintext, k.prefix, k.name, k.created_at)

    @get("/me/api-keys")
    async def list_keys(
        self, principal: NamedDependency[Principal], uow_factory: NamedDependency[UnitOfWorkFactory]
    ) -> list[s.ApiKeyOut]:
        keys = await list_api_keys(principal.require_user().id, uow_factory=uow_factory)
        return [s.ApiKeyOut(k.id, k.prefix, k.name, k.created_at, k.revoked_at) for k in keys]

    @delete("/me/api-keys/{key_id:str}", status_code=204)
    async def revoke_key(
        self,
        key_id: FromPath[str],
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        clock: NamedDependency[Clock],
    ) -> Response[None]:
        await revoke_api_key(
            principal.require_user().id, key_id, uow_factory=uow_factory, clock=clock
        )
        return Response(None, status_code=204)


class BalanceController(Controller):
    path = "/user"
    tags = ["balance"]

    @get("/balance")
    async def balance(
        self, principal: NamedDependency[Principal], uow_factory: NamedDependency[UnitOfWorkFactory]
    ) -> s.BalanceOut:
        account = await queries.get_account(principal.require_user().id, uow_factory=uow_factory)
        return s.BalanceOut(
            account.user_id, account.balance, account.balance_usd, account.available, account.held
        )

    @get("/credit-transactions")
    async def transactions(
        self,
        principal: NamedDependency[Principal],
        uow_factory: NamedDependency[UnitOfWorkFactory],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> s.TransactionsPage:
        page = await queries.list_entries(
            principal.require_user().id, limit, cursor, uow_factory=uow_factory
        )
        return s.TransactionsPage([s.TransactionOut.of(e) for e in page.items], page.next_cursor)
