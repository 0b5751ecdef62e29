"""Saved cards in the sandbox, kept in its store like everything Stripe would keep: a
customer's default card (``CustomerRecord.default_card``) and the setup-mode Checkout
Sessions that save one (``SetupSessionRecord``), both in ``subscription_records``.
Every process on the database (the replicas of ``serve``, ``creditline batch
auto-top-up``) sees the same cards.

Each function runs inside one sandbox transaction (``adapters.sandbox.transact``) on the
records it loaded: the customer, or a setup session together with its customer.
"""

from __future__ import annotations

from datetime import datetime

from adapters.sandbox.cards import SandboxCard, find_card
from adapters.sandbox.records import Outcome, new_id
from adapters.sandbox.state import SandboxState, timestamp
from adapters.sandbox.subscription_records import SetupSessionRecord
from application.auto_top_up.cards import SavedCard, SetupRequest
from application.purchases.gateway import CheckoutStatus
from domain.errors import GatewayRejected


def create_setup(
    state: SandboxState, request: SetupRequest, url_base: str, now: datetime
) -> SetupSessionRecord:
    """For a customer the sandbox knows, as Stripe requires; a replayed key finds it."""
    known = state.replay(request.idempotency_key, request)
    if known is not None:
        return state.book.setups[known]
    state.book.customer(request.customer_id)
    session_id = new_id("cs_test_setup")
    setup = SetupSessionRecord(
        id=session_id,
        customer_id=request.customer_id,
        user_id=request.user_id,
        success_url=request.success_url,
        cancel_url=request.cancel_url,
        url=f"{url_base}/sandbox/checkout/{session_id}",
        created=timestamp(now),
    )
    state.book.setups[session_id] = setup
    state.remember(request.idempotency_key, request, session_id)
    return setup


def complete_setup(state: SandboxState, session_id: str, card: SandboxCard) -> Outcome:
    """The card typed on the page becomes the customer's default payment method."""
    setup = state.book.setup(session_id)
    if setup.status is not CheckoutStatus.OPEN:
        raise GatewayRejected(f"session {session_id} is complete", code="session_complete")
    save_card(state, setup.customer_id, card)
    setup.status = CheckoutStatus.COMPLETE
    return Outcome("succeeded", (), "Card saved")


def save_card(state: SandboxState, customer_id: str, card: SandboxCard) -> None:
    state.book.customer(customer_id).default_card = card.number


def remove_card(state: SandboxState, customer_id: str) -> None:
    customer = state.book.customers.get(customer_id)
    if customer is not None:
        customer.default_card = None


def card_of(state: SandboxState, customer_id: str) -> SandboxCard | None:
    """The customer's default card; None for a customer without one, or unknown here."""
    customer = state.book.customers.get(customer_id)
    if customer is None or customer.default_card is None:
        return None
    return find_card(customer.default_card)


def as_saved(card: SandboxCard) -> SavedCard:
    return SavedCard(brand="visa", last4=card.number[-4:])
