"""Users and API keys: create (key shown once), authenticate, list, revoke."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from application.ids import hash_api_key, new_api_key, new_id, new_referral_code
from application.ports import Clock, Page, UnitOfWorkFactory
from application.queries import MAX_PAGE, page_size
from application.rewards.referrals import attach_referral, find_referrer
from application.rewards.trials import start_trial
from domain.errors import ApiKeyLimitReached, NotFound, Unauthenticated, ValidationFailed
from domain.referral import ReferralTerms
from domain.trial import TrialTerms
from domain.user import ApiKey, User, normalise_email

KEY_PREFIX_LENGTH = 11
DEFAULT_MAX_KEYS = 20


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """The only time a plaintext key exists outside the caller's hands."""

    key: ApiKey
    plaintext: str


@dataclass(frozen=True, slots=True)
class CreatedUser:
    user: User
    api_key: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, an operator key from ADMIN_API_KEYS, or a service key from
    SERVICE_API_KEYS (both with user None).

    ``key_id`` names the key without revealing it: a user key's id, or for an
    ADMIN_API_KEYS key a prefix of its SHA-256 (``operator_key_id``), which has no row.
    """

    user: User | None
    is_admin: bool
    is_service: bool = False
    key_id: str | None = None

    @property
    def may_spend_for_anyone(self) -> bool:
        """Services (a product's API gateway) and admins spend on behalf of any user;
        a user's own key never does, or a user could spend without limit."""
        return self.is_service or self.is_admin

    def require_user(self) -> User:
        if self.user is None:
            raise ValidationFailed(
                "this endpoint needs a user's API key, not an operator key",
                code="user_key_required",
            )
        return self.user


def operator_key_id(key_hash: str) -> str:
    """64 bits of the key's hash: stable across restarts, useless for guessing the key."""
    return f"operator_{key_hash[:16]}"


def _issue(user_id: str, name: str | None, clock: Clock) -> IssuedKey:
    plaintext = new_api_key()
    key = ApiKey(
        id=new_id("key"),
        user_id=user_id,
        prefix=plaintext[:KEY_PREFIX_LENGTH],
        key_hash=hash_api_key(plaintext),
        created_at=clock.now(),
        name=name,
    )
    return IssuedKey(key, plaintext)


async def create_user(
    email: str,
    *,
    is_admin: bool = False,
    referred_by_code: str | None = None,
    referral_terms: ReferralTerms | None = None,
    trial_terms: TrialTerms | None = None,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> CreatedUser:
    """One transaction: the user, its account and key, its referral and its trial.

    ``referral_terms`` are copied onto the referral (None: the defaults);
    ``trial_terms`` None grants no trial.
    """
    normalised = normalise_email(email)
    async with uow_factory() as uow:
        referrer = None
        if referred_by_code is not None:
            referrer = await find_referrer(uow, referred_by_code)
        user = User(
            id=new_id("usr"),
            email=normalised,
            created_at=clock.now(),
            is_admin=is_admin,
            referral_code=new_referral_code(),
            referred_by=referrer.id if referrer else None,
        )
        await uow.users.add(user)
        await uow.ledger.open_account(user.id)
        if referrer is not None:
            terms = referral_terms or ReferralTerms()
            await attach_referral(uow, user, referrer, terms, clock)
        if trial_terms is not None:
            await start_trial(uow, user, trial_terms, clock.now())
        issued = _issue(user.id, "default", clock)
        await uow.users.add_api_key(issued.key)
        await uow.commit()
    return CreatedUser(user, issued.plaintext)


async def authenticate(
    api_key: str | None,
    *,
    admin_key_hashes: Sequence[str],
    uow_factory: UnitOfWorkFactory,
    service_key_hashes: Sequence[str] = (),
) -> Principal:
    if not api_key:
        raise Unauthenticated("missing API key: send Authorization: Bearer <key>")
    digest = hash_api_key(api_key)
    if any(hmac.compare_digest(digest, admin) for admin in admin_key_hashes):
        return Principal(user=None, is_admin=True, key_id=operator_key_id(digest))
    if any(hmac.compare_digest(digest, service) for service in service_key_hashes):
        return Principal(user=None, is_admin=False, is_service=True)
    async with uow_factory() as uow:
        found = await uow.users.find_key_owner(digest)
    if found is None:
        raise Unauthenticated("invalid or revoked API key")
    key, user = found
    return Principal(user=user, is_admin=user.is_admin, key_id=key.id)


async def create_api_key(
    user_id: str,
    name: str | None,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    max_keys: int = DEFAULT_MAX_KEYS,
) -> IssuedKey:
    """At most ``max_keys`` active keys per user: each key is a rate-limit identity a
    user could otherwise multiply. Counted and added in one transaction, under the
    user's row lock, so concurrent requests cannot pass the cap together."""
    issued = _issue(user_id, name, clock)
    async with uow_factory() as uow:
        if await uow.users.count_active_api_keys(user_id) >= max_keys:
            raise ApiKeyLimitReached(
                f"a user may hold {max_keys} active API keys; revoke one first"
            )
        await uow.users.add_api_key(issued.key)
        await uow.commit()
    return issued


async def list_api_keys(
    user_id: str,
    limit: int | None = None,
    cursor: str | None = None,
    *,
    uow_factory: UnitOfWorkFactory,
) -> Page[ApiKey]:
    """Oldest first; without ``limit`` a page of the largest size, as lists were whole."""
    async with uow_factory() as uow:
        return await uow.users.list_api_keys(user_id, page_size(limit, MAX_PAGE), cursor)


async def revoke_api_key(
    user_id: str, key_id: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> None:
    async with uow_factory() as uow:
        if not await uow.users.revoke_api_key(user_id, key_id, clock.now()):
            raise NotFound("no such API key")
        await uow.commit()
