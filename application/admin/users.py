"""The operator's view of users: find one, see their account, page their ledger.

A user's view is a fixed core (profile, balance, held, recent payments) and optional
sections, one per capability that keeps something about users (referral, trial,
subscription, holds, disputes; auto top-up adds its own to ``SECTIONS``): a section
absent from the view means the user has nothing there, never that reading it failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from application.admin.ports import UserRow
from application.ports import Page, UnitOfWork, UnitOfWorkFactory
from application.queries import page_size
from domain.errors import NotFound
from domain.events import JsonValue
from domain.ledger import Account, LedgerEntry
from domain.payment import Payment
from domain.user import User, normalise_email

RECENT_PAYMENTS = 10

# A section's field: a value, or rows of values (a table: holds, disputes).
Field = JsonValue | Sequence[Mapping[str, JsonValue]]
Section = Mapping[str, Field]
SectionReader = Callable[[UnitOfWork, User], Awaitable[Section | None]]


@dataclass(frozen=True, slots=True)
class UserView:
    user: User
    account: Account
    recent_payments: Sequence[Payment]
    sections: Mapping[str, Section]


async def _referral(uow: UnitOfWork, user: User) -> Section | None:
    referral = await uow.referrals.get(user.id)
    if referral is None:
        return {"code": user.referral_code, "referred_by": None}
    return {
        "code": user.referral_code,
        "referred_by": referral.referrer_id,
        "status": referral.status.value,
        "payment_id": referral.payment_id,
        "reversals": referral.reversals,
    }


async def _trial(uow: UnitOfWork, user: User) -> Section | None:
    trial = await uow.trials.get(user.id)
    if trial is None:
        return None
    return {
        "credits": trial.credits,
        "granted_at": trial.granted_at.isoformat(),
        "expires_at": trial.expires_at.isoformat(),
        "converted_at": trial.converted_at.isoformat() if trial.converted_at else None,
    }


async def _subscription(uow: UnitOfWork, user: User) -> Section | None:
    found = await uow.subscriptions.for_user(user.id)
    if found is None:
        return None
    return {
        "id": found.id,
        "plan": found.plan_id,
        "status": found.status.value,
        "current_period_start": found.current_period_start.isoformat(),
        "current_period_end": found.current_period_end.isoformat(),
        "cancel_at_period_end": found.cancel_at_period_end,
    }


async def _holds(uow: UnitOfWork, user: User) -> Section | None:
    """Holds not yet ended: what makes ``held``, or a hold the expiry job has yet to end."""
    active = await uow.admin.active_holds(user.id)
    if not active:
        return None
    return {
        "credits": sum(h.credits for h in active),
        "rows": [
            {
                "id": h.id,
                "credits": h.credits,
                "kind": h.kind.value,
                "expires_at": h.expires_at.isoformat() if h.expires_at else None,
            }
            for h in active
        ],
    }


async def _disputes(uow: UnitOfWork, user: User) -> Section | None:
    found = await uow.admin.disputes_of(user.id)
    if not found:
        return None
    return {
        "rows": [{"id": d.id, "payment": d.payment_id, "status": d.status.value} for d in found]
    }


SECTIONS: Mapping[str, SectionReader] = {
    "referral": _referral,
    "trial": _trial,
    "subscription": _subscription,
    "holds": _holds,
    "disputes": _disputes,
}


async def search_users(
    email: str | None,
    q: str | None,
    limit: int | None,
    cursor: str | None,
    *,
    uow_factory: UnitOfWorkFactory,
) -> Page[UserRow]:
    exact = normalise_email(email) if email else None
    async with uow_factory() as uow:
        return await uow.admin.users(exact, (q or "").strip() or None, page_size(limit), cursor)


async def view_user(user_id: str, *, uow_factory: UnitOfWorkFactory) -> UserView:
    async with uow_factory() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("no such user")
        account = await uow.ledger.account(user_id) or Account(user_id, 0)
        payments = await uow.payments.list_for_user(user_id, RECENT_PAYMENTS, None)
        sections = {}
        for name, read in SECTIONS.items():
            section = await read(uow, user)
            if section is not None:
                sections[name] = section
    return UserView(user, account, payments.items, sections)


async def user_ledger(
    user_id: str, limit: int | None, cursor: str | None, *, uow_factory: UnitOfWorkFactory
) -> Page[LedgerEntry]:
    async with uow_factory() as uow:
        if await uow.users.get(user_id) is None:
            raise NotFound("no such user")
        return await uow.ledger.entries(user_id, page_size(limit), cursor)
