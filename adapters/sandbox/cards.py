"""Stripe's test card numbers, and what each one does in the sandbox.

The same numbers a developer would type on Stripe's own test checkout, so a flow
rehearsed on the sandbox behaves the same when pointed at Stripe in test mode.
Any other number is refused: the sandbox must never look like it takes real cards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationFailed


class CardOutcome(enum.StrEnum):
    SUCCEEDS = "succeeds"
    REQUIRES_AUTHENTICATION = "requires_authentication"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class CardError:
    """A ``last_payment_error`` as Stripe reports it on a PaymentIntent."""

    code: str
    message: str
    decline_code: str | None = None

    def as_stripe(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": "card_error", "code": self.code, "message": self.message}
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        return error


@dataclass(frozen=True, slots=True)
class SandboxCard:
    number: str
    label: str
    outcome: CardOutcome
    error: CardError | None = None

    @property
    def display(self) -> str:
        """The number in groups of four, as printed on a card."""
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


INSUFFICIENT_FUNDS = CardError(
    code="card_declined",
    decline_code="insufficient_funds",
    message="Your card has insufficient funds.",
)
EXPIRED_CARD = CardError(code="expired_card", message="Your card has expired.")
AUTHENTICATION_FAILED = CardError(
    code="payment_intent_authentication_failure",
    message=(
        "We are unable to authenticate your payment method. "
        "Please choose a different payment method and try again."
    ),
)

# Off-session, a card that asks for authentication fails with this instead of waiting.
AUTHENTICATION_REQUIRED = CardError(
    code="authentication_required",
    decline_code="authentication_required",
    message="Your card was declined. This transaction requires authentication.",
)
GENERIC_DECLINE = CardError(
    code="card_declined", decline_code="generic_decline", message="Your card was declined."
)

TEST_CARDS: tuple[SandboxCard, ...] = (
    SandboxCard("4242424242424242", "Succeeds", CardOutcome.SUCCEEDS),
    SandboxCard(
        "4000002500003155", "Asks for 3-D Secure authentication",
        CardOutcome.REQUIRES_AUTHENTICATION,
    ),
    SandboxCard(
        "4000000000009995", "Declined: insufficient funds", CardOutcome.DECLINED,
        INSUFFICIENT_FUNDS,
    ),
    SandboxCard("4000000000000069", "Declined: expired card", CardOutcome.DECLINED, EXPIRED_CARD),
    SandboxCard(
        "4000002760003184", "Asks for authentication, also off-session",
        CardOutcome.REQUIRES_AUTHENTICATION, AUTHENTICATION_REQUIRED,
    ),
    SandboxCard(
        "4000000000000341", "Attaches as a saved card; its charges are declined",
        CardOutcome.DECLINED, GENERIC_DECLINE,
    ),
)  # fmt: skip

_BY_NUMBER = {card.number: card for card in TEST_CARDS}


def find_card(card_number: str) -> SandboxCard:
    """The test card for ``card_number`` (spaces and dashes allowed).

    The number typed is never echoed back, in case someone pastes a real one.
    """
    digits = card_number.replace(" ", "").replace("-", "")
    card = _BY_NUMBER.get(digits)
    if card is None:
        known = ", ".join(c.display for c in TEST_CARDS)
        raise ValidationFailed(
            f"not a sandbox test card; use one of {known}", code="unknown_test_card"
        )
    return card
