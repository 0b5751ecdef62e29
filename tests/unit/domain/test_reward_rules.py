"""The pure rules of referrals and trials: no I/O, a fixed ``now``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCycle,
    ReferralWindowClosed,
    ValidationFailed,
)
from domain.ledger import EntryKind
from domain.payment import Payment, PaymentKind, PaymentStatus
from domain.referral import (
    REFERRAL_ALPHABET,
    BonusMove,
    Referral,
    ReferralStatus,
    ReferralTerms,
    bonus_postings,
    check_referral_allowed,
    normalise_referral_code,
    opened_before,
    purchase_value,
    retained_value,
    reversal_postings,
)
from domain.trial import Trial, TrialState, TrialTerms, trial_email_key
from domain.user import User

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def paid(amount: int = 1000, currency: str = "usd", credits: int | None = None) -> Payment:
    return Payment(
        id="pay_1",
        user_id="usr_b",
        kind=PaymentKind.CHECKOUT,
        amount=amount,
        currency=currency,
        credits=amount if credits is None else credits,
        status=PaymentStatus.COMPLETED,
        created_at=NOW,
    )


def referral(terms: ReferralTerms | None = None) -> Referral:
    return Referral("usr_b", "usr_a", terms or ReferralTerms(), NOW)


# ---- referral codes and terms ----------------------------------------------------------


def test_codes_are_normalised_and_look_alikes_are_refused() -> None:
    assert normalise_referral_code(" abcd2345 ") == "ABCD2345"
    assert normalise_referral_code("ABCD0345") is None  # 0 is not in the alphabet
    assert normalise_referral_code("ABCD234") is None
    assert not set("O0I1L") & set(REFERRAL_ALPHABET)


@pytest.mark.parametrize("field", ["min_purchase", "bonus_credits", "max_uses"])
def test_terms_must_be_positive(field: str) -> None:
    with pytest.raises(ValidationFailed):
        ReferralTerms(**{field: 0})


# ---- what a purchase is worth ----------------------------------------------------------


def test_usd_purchases_are_worth_their_amount_not_their_package_credits() -> None:
    package = paid(amount=900, credits=1100)  # a discounted bundle: $9 buys 1100 credits
    assert purchase_value(package) == 900
    assert not referral().qualifies(package)


def test_other_currencies_are_worth_the_credits_they_bought() -> None:
    eur = paid(amount=926, currency="eur", credits=1000)  # 1.08 credits per euro cent
    assert purchase_value(eur) == 1000
    assert referral().qualifies(eur)
    assert not referral().qualifies(paid(amount=900, currency="eur", credits=972))


def test_the_minimum_is_inclusive() -> None:
    assert referral().qualifies(paid(1000))
    assert not referral().qualifies(paid(999))


def test_retained_value_subtracts_refunds() -> None:
    usd = paid(5000)
    usd.amount_refunded = 4200
    assert retained_value(usd) == 800
    eur = paid(amount=926, currency="eur", credits=1000)
    eur.credits_reversed = 500
    assert retained_value(eur) == 500


# ---- a referral's life -----------------------------------------------------------------


def test_the_first_purchase_decides_and_settling_again_on_it_moves_nothing() -> None:
    r = referral()
    assert r.settle(paid(1000), True, NOW) is BonusMove.GRANT
    assert (r.status, r.payment_id, r.decided_at) == (ReferralStatus.REWARDED, "pay_1", NOW)
    assert r.settle(paid(1000), True, NOW) is None
    assert r.reversals == 0


def test_a_purchase_under_the_minimum_or_without_a_use_pays_nothing() -> None:
    under, capped = referral(), referral()
    assert under.settle(paid(999), False, NOW) is None
    assert under.status is ReferralStatus.INELIGIBLE
    assert capped.settle(paid(1000), False, NOW) is None
    assert capped.status is ReferralStatus.CAPPED


def test_a_full_refund_undoes_the_qualifying_purchase_and_its_failure_redoes_it() -> None:
    r = referral()
    payment = paid(1000)
    r.settle(payment, True, NOW)
    payment.amount_refunded = 1000
    assert r.settle(payment, True, NOW) is BonusMove.TAKE_BACK
    assert (r.status, r.reversals, r.reversed_at) == (ReferralStatus.REVERSED, 1, NOW)
    assert r.settle(payment, True, NOW) is None
    payment.amount_refunded = 0
    assert r.settle(payment, True, NOW) is BonusMove.GRANT
    assert (r.status, r.reversals, r.reversed_at) == (ReferralStatus.REWARDED, 1, None)


def test_a_partial_refund_undoes_it_only_below_the_minimum() -> None:
    r = referral()
    payment = paid(5000)
    r.settle(payment, True, NOW)
    payment.amount_refunded = 4000  # $10 kept: still a qualifying purchase
    assert r.settle(payment, True, NOW) is None
    payment.amount_refunded = 4001
    assert r.settle(payment, True, NOW) is BonusMove.TAKE_BACK


def test_a_purchase_opened_earlier_decides_again() -> None:
    r = referral()
    later = paid(2000)
    r.settle(later, True, NOW)
    earlier = replace(paid(500), id="pay_0", created_at=NOW - timedelta(minutes=1))
    assert opened_before(earlier, later) and not opened_before(later, earlier)
    assert r.settle(earlier, True, NOW) is BonusMove.TAKE_BACK
    assert (r.status, r.payment_id, r.reversals) == (ReferralStatus.INELIGIBLE, "pay_0", 1)


def person(user_id: str, email: str, referred_by: str | None = None) -> User:
    return User(user_id, email, NOW, referral_code=None, referred_by=referred_by)


B = person("usr_b", "b@example.com")
A = person("usr_a", "a@example.com")


@pytest.mark.parametrize(
    ("user", "referrer", "already", "purchased", "error"),
    [
        (B, B, False, False, OwnReferralCode),
        (
            person("usr_b", "Jane.Doe@gmail.com"),
            person("usr_a", "janedoe+2@gmail.com"),
            False,
            False,
            OwnReferralCode,
        ),
        (B, A, True, False, ReferralAlreadyApplied),
        (B, A, False, True, ReferralWindowClosed),
        (B, person("usr_a", "a@example.com", referred_by="usr_b"), False, False, ReferralCycle),
    ],
)
def test_who_may_apply_a_code(
    user: User, referrer: User, already: bool, purchased: bool, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_referral_allowed(user, referrer, already_referred=already, has_purchased=purchased)
    check_referral_allowed(B, A, already_referred=False, has_purchased=False)


def test_bonuses_and_reversals_have_keys_of_their_own() -> None:
    r = referral(ReferralTerms(bonus_credits=700))
    grants = bonus_postings(r)
    reversals = reversal_postings(r, 11, None)
    assert [(p.user_id, p.credits, p.kind) for p in grants] == [
        ("usr_b", 700, EntryKind.REFERRAL_BONUS),
        ("usr_a", 700, EntryKind.REFERRAL_BONUS),
    ]
    assert [(p.user_id, p.credits, p.lot_entry_id, p.kind) for p in reversals] == [
        ("usr_b", -700, 11, EntryKind.BONUS_REVERSAL),
        ("usr_a", -700, None, EntryKind.BONUS_REVERSAL),
    ]
    keys = {p.idempotency_key for p in (*grants, *reversals)}
    assert len(keys) == 4 and all("usr_b" in key for key in keys)
    assert all(p.may_go_negative for p in reversals)


def test_each_reversal_and_each_grant_after_one_has_a_key_of_its_own() -> None:
    r = referral()
    keys = {p.idempotency_key for p in (*bonus_postings(r), *reversal_postings(r, None, None))}
    for n in (1, 2):
        r.reversals = n
        keys |= {p.idempotency_key for p in bonus_postings(r)}
        r.reversals = n + 1
        keys |= {p.idempotency_key for p in reversal_postings(r, None, None)}
    assert len(keys) == 2 * 2 * 3
    assert "referral:usr_b:referred:reversal" in keys  # the first reversal's key is unchanged


# ---- trials ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Jane.Doe+promo@Gmail.com", "janedoe@gmail.com"),
        ("j.a.n.e.doe@googlemail.com", "janedoe@gmail.com"),
        ("jane.doe+x+y@example.com", "jane.doe@example.com"),
        ("JANE.DOE@example.com", "jane.doe@example.com"),
    ],
)
def test_trial_email_keys(email: str, key: str) -> None:
    assert trial_email_key(email) == key


@given(
    st.sampled_from(["gmail.com", "googlemail.com"]), st.text("abc.", min_size=1), st.text("xyz")
)
def test_every_gmail_spelling_of_a_mailbox_has_one_key(host: str, dotted: str, tag: str) -> None:
    local = dotted.replace(".", "") or "a"
    spelled = f"{dotted if dotted.replace('.', '') else 'a'}+{tag}@{host.upper()}"
    assert trial_email_key(spelled) == f"{local}@gmail.com"


def test_trial_state_moves_from_active_to_expired_unless_converted() -> None:
    trial = Trial.start("usr_a", "a@example.com", TrialTerms(credits=500, days=7), NOW)
    assert trial.expires_at == NOW + timedelta(days=7)
    assert trial.state(NOW) is TrialState.ACTIVE
    assert trial.state(NOW + timedelta(days=7)) is TrialState.EXPIRED
    converted = replace(trial, converted_at=NOW + timedelta(days=1))
    assert converted.state(NOW + timedelta(days=30)) is TrialState.CONVERTED
    grant = trial.grant()
    assert (grant.credits, grant.kind, grant.expires_at) == (500, EntryKind.TRIAL, trial.expires_at)


def test_trials_are_off_by_default() -> None:
    assert not TrialTerms().enabled
    with pytest.raises(ValidationFailed):
        TrialTerms(credits=100, days=0)
