from types import MappingProxyType

import pytest

from domain.credits import (
    CreditPackage,
    CreditRate,
    PricingPolicy,
    credits_as_usd,
    package_discount,
)
from domain.errors import (
    AmountOutOfRange,
    PackageAmountMismatch,
    RedirectNotAllowed,
    UnknownPackage,
    UnsupportedCurrency,
    ValidationFailed,
)
from domain.money import Money, format_minor, minor_unit_exponent
from domain.redirects import RedirectPolicy

POLICY = PricingPolicy(
    MappingProxyType({"usd": CreditRate("usd", 1), "jpy": CreditRate("jpy", 2, 3)}),
    50,
    1_000_000,
    (CreditPackage("p1", "Pack", 5500, Money(5000, "usd"), 9, True),),
)


def test_one_credit_is_one_cent() -> None:
    assert POLICY.quote(Money(1000, "usd")) == 1000
    assert credits_as_usd(1000) == "10.00"
    assert credits_as_usd(-5) == "-0.05"


def test_zero_decimal_and_three_decimal_currencies() -> None:
    assert minor_unit_exponent("jpy") == 0 and Money(1500, "jpy").format() == "1500"
    assert minor_unit_exponent("kwd") == 3 and Money(1250, "kwd").format() == "1.250"
    assert format_minor(5, 2) == "0.05"


def test_configured_rate_rounds_down() -> None:
    assert POLICY.quote(Money(100, "jpy")) == 66


def test_unconfigured_currency_is_refused_not_one_to_one() -> None:
    with pytest.raises(UnsupportedCurrency):
        POLICY.quote(Money(1000, "eur"))


@pytest.mark.parametrize("amount", [0, 49, 1_000_001])
def test_bounds(amount: int) -> None:
    with pytest.raises(AmountOutOfRange):
        POLICY.quote(Money(amount, "usd"))


def test_money_rejects_floats_and_bad_codes() -> None:
    with pytest.raises(ValidationFailed):
        Money(10.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedCurrency):
        Money.of(100, "dollars")
    assert Money.of(100, " USD ").currency == "usd"


def test_packages_price_from_server_config_only() -> None:
    assert POLICY.price_order(None, None, "p1") == (Money(5000, "usd"), 5500)
    assert POLICY.price_order(5000, "USD", "p1") == (Money(5000, "usd"), 5500)
    with pytest.raises(PackageAmountMismatch):
        POLICY.price_order(100, "usd", "p1")
    with pytest.raises(UnknownPackage):
        POLICY.price_order(None, None, "nope")
    with pytest.raises(ValidationFailed):
        POLICY.price_order(None, "usd", None)


@pytest.mark.parametrize(
    ("credits", "price", "discount"),
    [
        (5500, Money(5000, "usd"), 9),  # saves 500 of 5500 cents: 9.09% rounds to 9
        (12000, Money(10000, "usd"), 17),
        (1000, Money(1000, "usd"), 0),  # face value: no saving
        (1000, Money(1200, "usd"), 0),  # dearer than face value: no negative discount
        (5500, Money(5000, "eur"), 0),  # no fixed rate to compare another currency with
        (3, Money(1, "usd"), 67),
    ],
)
def test_a_package_discount_is_its_saving_against_face_value(
    credits: int, price: Money, discount: int
) -> None:
    assert package_discount(credits, price) == discount


@pytest.mark.parametrize(("credits", "amount"), [(0, 100), (-5, 100), (100, 0)])
def test_a_package_needs_positive_credits_and_price(credits: int, amount: int) -> None:
    with pytest.raises(ValidationFailed, match="positive credits and amount"):
        CreditPackage("p", "P", credits, Money(amount, "usd"))


def test_redirects_stay_on_frontend_origin() -> None:
    policy = RedirectPolicy("https://app.example.com")
    assert policy.resolve(None, "/ok") == "https://app.example.com/ok"
    assert (
        policy.resolve("https://app.example.com:443/x?y=1", "/")
        == "https://app.example.com:443/x?y=1"
    )
    for bad in [
        "https://evil.example.com/",
        "http://app.example.com/",
        "javascript:alert(1)",
        "//evil.com",
        "https://app.example.com.evil.com/",
        "https://app.example.com/\r\nx",
    ]:
        with pytest.raises(RedirectNotAllowed):
            policy.resolve(bad, "/")
