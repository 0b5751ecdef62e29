"""Money as an integer amount in the currency's minor unit, as Stripe sends it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import UnsupportedCurrency, ValidationFailed

# Stripe's zero-decimal currencies: the amount is already in whole units.
ZERO_DECIMAL = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
        "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
# Three-decimal currencies Stripe supports.
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places the minor unit of ``currency`` has."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def normalise_currency(raw: str) -> str:
    code = raw.strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise UnsupportedCurrency(f"'{raw}' is not an ISO 4217 currency code")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    """An integer amount of a currency's minor unit (cents for usd, yen for jpy)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValidationFailed("amount must be an integer in the currency's minor unit")
        if self.currency != normalise_currency(self.currency):
            raise UnsupportedCurrency(
                f"currency must be a lowercase ISO code, got '{self.currency}'"
            )

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        return cls(amount, normalise_currency(currency))

    def format(self) -> str:
        """Decimal display, e.g. ``Money(1000, 'usd').format() == '10.00'``."""
        return format_minor(self.amount, minor_unit_exponent(self.currency))


def format_minor(amount: int, exponent: int) -> str:
    """Integer minor units to a decimal string without floats ('-0.05', '1000', '1.250')."""
    if exponent == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"
