"""Users, API keys, authentication and the owner-only queries."""

from __future__ import annotations

import functools
from datetime import timedelta

import pytest

from application.accounts.users import (
    KEY_PREFIX_LENGTH,
    Principal,
    authenticate,
    create_api_key,
    create_user,
    list_api_keys,
    revoke_api_key,
)
from application.ids import hash_api_key
from application.queries import (
    MAX_PAGE,
    get_payment,
    list_entries,
    list_payments,
    page_size,
    verify_ledger,
)
from application.spending.balance import get_own_balance
from domain.errors import (
    ApiKeyLimitReached,
    EmailTaken,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from domain.referral import REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH
from tests.unit.conftest import T0, App

OPERATOR_KEY = "cl_operator_key_from_ADMIN_API_KEYS"


async def auth(app: App, key: str | None) -> Principal:
    return await authenticate(
        key, admin_key_hashes=[hash_api_key(OPERATOR_KEY)], uow_factory=app.store.uow_factory
    )


# ---- create_user -------------------------------------------------------------------------------


async def test_a_new_user_gets_an_account_a_key_and_a_referral_code(app: App) -> None:
    created = await create_user(
        "  Alice@Example.COM ", uow_factory=app.store.uow_factory, clock=app.clock
    )
    user = created.user
    assert user.email == "alice@example.com"
    assert (user.created_at, user.is_admin, user.referred_by) == (T0, False, None)
    assert user.referral_code is not None
    assert len(user.referral_code) == REFERRAL_CODE_LENGTH
    assert set(user.referral_code) <= set(REFERRAL_ALPHABET)
    assert app.store.state.users[user.id].email == "alice@example.com"
    assert app.balance(user.id) == 0
    # The key is shown once; only its hash and prefix are stored.
    [stored] = app.store.state.api_keys.values()
    assert stored.key_hash == hash_api_key(created.api_key) != created.api_key
    assert stored.prefix == created.api_key[:KEY_PREFIX_LENGTH]
    assert created.api_key not in repr(app.store.state)
    assert (await auth(app, created.api_key)).user == user


@pytest.mark.parametrize("email", ["ALICE@example.com", " alice@EXAMPLE.com"])
async def test_an_email_is_registered_once_whatever_its_case(app: App, email: str) -> None:
    await create_user("alice@example.com", uow_factory=app.store.uow_factory, clock=app.clock)
    with pytest.raises(EmailTaken):
        await create_user(email, uow_factory=app.store.uow_factory, clock=app.clock)
    assert len(app.store.state.users) == 1
    assert len(app.store.state.api_keys) == 1


@pytest.mark.parametrize("email", ["", "alice", "@example.com", "alice@localhost", "a b@x.com"])
async def test_an_invalid_email_is_refused(app: App, email: str) -> None:
    with pytest.raises(ValidationFailed):
        await create_user(email, uow_factory=app.store.uow_factory, clock=app.clock)
    assert app.store.state.users == {}


async def test_a_referral_code_links_the_new_user_to_the_referrer(app: App) -> None:
    referrer = await create_user(
        "ref@example.com", uow_factory=app.store.uow_factory, clock=app.clock
    )
    code = referrer.user.referral_code
    assert code is not None
    referred = await create_user(
        "new@example.com",
        referred_by_code=f" {code.lower()} ",
        uow_factory=app.store.uow_factory,
        clock=app.clock,
    )
    assert referred.user.referred_by == referrer.user.id
    assert referred.user.referral_code != code
    # No bonus for signing up (docs/failure-modes.md #10): only a paid purchase may earn one.
    assert app.balance(referrer.user.id) == app.balance(referred.user.id) == 0


@pytest.mark.parametrize("code", ["ABCDEFGH", "", "short", "ABCDEFG0", "ABCDEFGHJ"])
async def test_an_unknown_referral_code_is_refused(app: App, code: str) -> None:
    await create_user("ref@example.com", uow_factory=app.store.uow_factory, clock=app.clock)
    with pytest.raises(ValidationFailed) as raised:
        await create_user(
            "new@example.com",
            referred_by_code=code,
            uow_factory=app.store.uow_factory,
            clock=app.clock,
        )
    assert raised.value.code == "unknown_referral_code"
    assert len(app.store.state.users) == 1


# ---- authenticate ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "cl_not_a_key", OPERATOR_KEY + "x"])
async def test_no_key_or_a_bad_key_is_unauthenticated(app: App, key: str | None) -> None:
    await app.user()
    with pytest.raises(Unauthenticated):
        await auth(app, key)


async def test_an_operator_key_is_an_admin_without_a_user(app: App) -> None:
    principal = await auth(app, OPERATOR_KEY)
    assert (principal.user, principal.is_admin) == (None, True)
    with pytest.raises(ValidationFailed) as raised:
        principal.require_user()
    assert raised.value.code == "user_key_required"


async def test_a_users_admin_flag_makes_an_admin_principal(app: App) -> None:
    admin = await create_user(
        "boss@example.com", is_admin=True, uow_factory=app.store.uow_factory, clock=app.clock
    )
    plain = await create_user(
        "pleb@example.com", uow_factory=app.store.uow_factory, clock=app.clock
    )
    boss = await auth(app, admin.api_key)
    assert (boss.require_user().id, boss.is_admin) == (admin.user.id, True)
    assert (await auth(app, plain.api_key)).is_admin is False


# ---- API keys -------------------------------------------------------------------------------


async def test_keys_are_created_listed_and_revoked(app: App) -> None:
    created = await create_user("a@example.com", uow_factory=app.store.uow_factory, clock=app.clock)
    user_id = created.user.id
    app.clock.advance(timedelta(minutes=1))
    issued = await create_api_key(user_id, "ci", uow_factory=app.store.uow_factory, clock=app.clock)
    assert issued.key.prefix == issued.plaintext[:KEY_PREFIX_LENGTH]
    assert issued.key.key_hash == hash_api_key(issued.plaintext)
    assert (await auth(app, issued.plaintext)).require_user().id == user_id

    keys = (await list_api_keys(user_id, uow_factory=app.store.uow_factory)).items
    assert [(k.name, k.revoked_at) for k in keys] == [("default", None), ("ci", None)]

    app.clock.advance(timedelta(minutes=1))
    await revoke_api_key(user_id, issued.key.id, uow_factory=app.store.uow_factory, clock=app.clock)
    with pytest.raises(Unauthenticated):
        await auth(app, issued.plaintext)
    keys = (await list_api_keys(user_id, uow_factory=app.store.uow_factory)).items
    assert [(k.name, k.revoked_at) for k in keys] == [
        ("default", None),
        ("ci", T0 + timedelta(minutes=2)),
    ]
    # The other key still works; revoking twice is not an error.
    assert (await auth(app, created.api_key)).require_user().id == user_id
    await revoke_api_key(user_id, issued.key.id, uow_factory=app.store.uow_factory, clock=app.clock)


async def test_another_users_key_cannot_be_revoked_or_listed(app: App) -> None:
    alice = await create_user("a@example.com", uow_factory=app.store.uow_factory, clock=app.clock)
    bob = await create_user("b@example.com", uow_factory=app.store.uow_factory, clock=app.clock)
    [bobs_key] = (await list_api_keys(bob.user.id, uow_factory=app.store.uow_factory)).items
    with pytest.raises(NotFound):
        await revoke_api_key(
            alice.user.id, bobs_key.id, uow_factory=app.store.uow_factory, clock=app.clock
        )
    with pytest.raises(NotFound):
        await revoke_api_key(
            alice.user.id, "key_nope", uow_factory=app.store.uow_factory, clock=app.clock
        )
    assert (await auth(app, bob.api_key)).require_user().id == bob.user.id
    alices = (await list_api_keys(alice.user.id, uow_factory=app.store.uow_factory)).items
    assert {k.user_id for k in alices} == {alice.user.id}


# ---- queries --------------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "size"), [(None, 20), (1, 1), (MAX_PAGE, MAX_PAGE)])
def test_page_sizes_within_bounds(limit: int | None, size: int) -> None:
    assert page_size(limit) == size


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE + 1])
async def test_page_sizes_out_of_bounds_are_refused(app: App, limit: int) -> None:
    user = await app.user()
    for query in (list_payments, list_entries):
        with pytest.raises(ValidationFailed) as raised:
            await query(user, limit, None, uow_factory=app.store.uow_factory)
        assert raised.value.code == "invalid_limit"


async def test_payments_are_listed_newest_first_by_pages(app: App) -> None:
    user, other = await app.user(), await app.user()
    made = []
    for amount in (100, 200, 300, 400, 500):
        made.append((await app.checkout(user, amount)).payment_id)
        await app.checkout(other, amount)
        app.clock.advance(timedelta(seconds=1))
    seen: list[str] = []
    cursor = None
    while True:
        page = await list_payments(user, 2, cursor, uow_factory=app.store.uow_factory)
        seen += [p.id for p in page.items]
        assert {p.user_id for p in page.items} <= {user}
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made[::-1]


async def test_ledger_entries_are_listed_newest_first_by_pages(app: App) -> None:
    payments = [await app.open_checkout(amount) for amount in (100, 200, 300)]
    user = payments[0].user_id
    for amount in (400, 500):
        payments.append(app.payment((await app.checkout(user, amount)).payment_id))
    for payment in payments:
        await app.handle_all(await app.pay(payment))
    first = await list_entries(user, 2, None, uow_factory=app.store.uow_factory)
    assert [e.credits for e in first.items] == [500, 400]
    rest = await list_entries(user, 2, first.next_cursor, uow_factory=app.store.uow_factory)
    assert [e.credits for e in rest.items] == [100]
    assert rest.next_cursor is None
    account = (
        await get_own_balance(user, uow_factory=app.store.uow_factory, clock=app.clock)
    ).account
    assert (account.balance, account.balance_usd) == (1000, "10.00")
    assert await verify_ledger(uow_factory=app.store.uow_factory) == []


async def test_an_unknown_users_account_reads_as_empty(app: App) -> None:
    own = await get_own_balance("usr_nope", uow_factory=app.store.uow_factory, clock=app.clock)
    account = own.account
    assert (account.balance, account.available) == (0, 0)


async def test_a_payment_is_visible_to_its_owner_and_admins_only(app: App) -> None:
    payment = await app.open_checkout()
    stranger = await app.user()
    owned = await get_payment(payment.id, payment.user_id, False, uow_factory=app.store.uow_factory)
    assert owned.id == payment.id
    with pytest.raises(NotFound) as theirs:
        await get_payment(payment.id, stranger, False, uow_factory=app.store.uow_factory)
    with pytest.raises(NotFound) as missing:
        await get_payment("pay_nope", stranger, False, uow_factory=app.store.uow_factory)
    assert theirs.value.message == missing.value.message
    admin_view = await get_payment(payment.id, None, True, uow_factory=app.store.uow_factory)
    assert admin_view.user_id == payment.user_id
    with pytest.raises(NotFound):
        await get_payment("pay_nope", None, True, uow_factory=app.store.uow_factory)


# ---- the cap on keys, and their pages -----------------------------------------------------


async def test_a_user_holds_at_most_the_cap_of_active_keys(app: App) -> None:
    created = await create_user(
        "cap@example.com", uow_factory=app.store.uow_factory, clock=app.clock
    )
    user_id = created.user.id
    make = functools.partial(
        create_api_key, user_id, uow_factory=app.store.uow_factory, clock=app.clock, max_keys=3
    )
    await make("one")
    second = await make("two")
    with pytest.raises(ApiKeyLimitReached) as refused:
        await make("three")
    assert refused.value.code == "api_key_limit"
    assert len(app.store.state.api_keys) == 3
    # Only active keys count: a revoked one frees its place.
    await revoke_api_key(user_id, second.key.id, uow_factory=app.store.uow_factory, clock=app.clock)
    await make("three")
    assert sum(k.revoked_at is None for k in app.store.state.api_keys.values()) == 3


async def test_keys_are_listed_oldest_first_in_pages(app: App) -> None:
    created = await create_user(
        "pages@example.com", uow_factory=app.store.uow_factory, clock=app.clock
    )
    user_id = created.user.id
    for name in ("a", "b", "c", "d"):
        app.clock.advance(timedelta(seconds=1))
        await create_api_key(user_id, name, uow_factory=app.store.uow_factory, clock=app.clock)
    first = await list_api_keys(user_id, 2, None, uow_factory=app.store.uow_factory)
    assert [k.name for k in first.items] == ["default", "a"]
    second = await list_api_keys(user_id, 2, first.next_cursor, uow_factory=app.store.uow_factory)
    assert [k.name for k in second.items] == ["b", "c"]
    last = await list_api_keys(user_id, 2, second.next_cursor, uow_factory=app.store.uow_factory)
    assert ([k.name for k in last.items], last.next_cursor) == (["d"], None)
