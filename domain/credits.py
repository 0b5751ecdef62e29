"""Credits: the unit of the ledger. 1 credit = US$0.01, always an integer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import (
    AmountOutOfRange,
    PackageAmountMismatch,
    UnknownPackage,
    UnsupportedCurrency,
    ValidationFailed,
)
from domain.money import Money, format_minor

CENTS_PER_CREDIT_USD = 1


def credits_as_usd(credits: int) -> str:
    """Display value of a credit balance in dollars: 1000 credits -> '10.00'."""
    return format_minor(credits * CENTS_PER_CREDIT_USD, 2)


@dataclass(frozen=True, slots=True)
class CreditRate:
    """Credits granted per minor unit of one currency, as an exact fraction.

    ``numerator / denominator`` credits per minor unit; usd is 1/1 (one credit per cent).
    Credits are rounded down, so a payment never grants more than it paid for.
    """

    currency: str
    numerator: int
    denominator: int = 1

    def __post_init__(self) -> None:
        if self.numerator <= 0 or self.denominator <= 0:
            raise ValidationFailed(f"credit rate for {self.currency} must be positive")

    def credits_for(self, amount: int) -> int:
        return amount * self.numerator // self.denominator


def package_discount(credits: int, price: Money) -> int:
    """The percentage a bundle saves against its credits' face value, rounded.

    A credit's face value is one US cent, so only usd bundles can show a saving; a
    bundle that costs its face value or more saves nothing.
    """
    face_value = credits * CENTS_PER_CREDIT_USD
    if price.currency != "usd" or face_value <= price.amount:
        return 0
    return round(100 * (face_value - price.amount) / face_value)


@dataclass(frozen=True, slots=True)
class CreditPackage:
    """A bundle sold at a fixed price; its credits come from server config only."""

    id: str
    name: str
    credits: int
    price: Money
    discount_percentage: int = 0
    popular: bool = False

    def __post_init__(self) -> None:
        if self.credits <= 0 or self.price.amount <= 0:
            raise ValidationFailed(f"package '{self.id}' needs positive credits and amount")


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """Which currencies are sold, at what rate, within which bounds, and the packages."""

    rates: Mapping[str, CreditRate]
    min_amount: int
    max_amount: int
    packages: tuple[CreditPackage, ...] = ()

    def quote(self, price: Money) -> int:
        """Credits for an arbitrary amount, checked against the configured bounds."""
        rate = self.rates.get(price.currency)
        if rate is None:
            raise UnsupportedCurrency(f"currency '{price.currency}' is not sold here")
        if not self.min_amount <= price.amount <= self.max_amount:
            raise AmountOutOfRange(
                f"amount must be between {self.min_amount} and {self.max_amount} "
                f"minor units of {price.currency}"
            )
        credits = rate.credits_for(price.amount)
        if credits <= 0:
            raise AmountOutOfRange("amount is too small to buy a single credit")
        return credits

    def package(self, package_id: str) -> CreditPackage:
        for package in self.packages:
            if package.id == package_id:
                return package
        raise UnknownPackage(f"no credit package '{package_id}'")

    def price_order(
        self, amount: int | None, currency: str | None, package_id: str | None
    ) -> tuple[Money, int]:
        """The (price, credits) of an order; the client never chooses the credits."""
        if package_id is not None:
            package = self.package(package_id)
            if amount is not None and amount != package.price.amount:
                raise PackageAmountMismatch("amount differs from the package's price")
            if currency is not None and Money.of(0, currency).currency != package.price.currency:
                raise PackageAmountMismatch("currency differs from the package's currency")
            return package.price, package.credits
        if amount is None or currency is None:
            raise ValidationFailed("amount and currency are required without a package_id")
        price = Money.of(amount, currency)
        return price, self.quote(price)
