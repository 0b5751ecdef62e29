"""Checkout Sessions in setup mode in the sandbox: the test page saves the card typed
as the customer's default payment method, as Stripe does on completion."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.sandbox.cards import SandboxCard
from adapters.sandbox.records import CheckoutDetails, new_id
from application.auto_top_up.cards import SavedCard, SetupRequest
from application.purchases.gateway import CheckoutStatus


@dataclass(slots=True)
class SetupRecord:
    id: str
    request: SetupRequest
    status: CheckoutStatus = CheckoutStatus.OPEN

    def details(self) -> CheckoutDetails:
        return CheckoutDetails(
            session_id=self.id,
            status=self.status,
            amount=0,
            currency="usd",
            description="Save a card for auto top-up",
            success_url=self.request.success_url,
            cancel_url=self.request.cancel_url,
        )


def new_setup(request: SetupRequest) -> SetupRecord:
    return SetupRecord(new_id("cs_test_setup"), request)


def as_saved(card: SandboxCard) -> SavedCard:
    return SavedCard(brand="visa", last4=card.number[-4:])
