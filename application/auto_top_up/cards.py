"""Saving a card for auto top-up: a Checkout Session in setup mode on the user's gateway
customer (created once, ``subscriptions.customers``); its completion makes the card the
customer's default payment method, which off-session charges use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.ids import new_id
from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.customers import customer_of
from application.subscriptions.gateway import SubscriptionGateway


@dataclass(frozen=True, slots=True)
class SetupRequest:
    customer_id: str
    user_id: str
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SetupSession:
    session_id: str
    url: str


@dataclass(frozen=True, slots=True)
class SavedCard:
    brand: str
    last4: str


class CardGateway(Protocol):
    async def create_setup_session(self, request: SetupRequest) -> SetupSession: ...

    async def default_card(self, customer_id: str) -> SavedCard | None: ...

    async def remove_default_card(self, customer_id: str) -> None: ...


class SetupCompletionGateway(Protocol):
    async def use_setup_payment_method(self, setup_intent_id: str, customer_id: str) -> str | None:
        """Make the payment method SetupIntent ``setup_intent_id`` saved the customer's
        default (what off-session charges use); its id, or None if it saved none for
        this customer. Safe to repeat."""
        ...


class CardsGateway(CardGateway, SubscriptionGateway, Protocol):
    """Cards live on the customer, which the subscription port creates."""


async def start_card_setup(
    user_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: CardsGateway,
    clock: Clock,
    return_url: str,
) -> SetupSession:
    customer = await customer_of(user_id, uow_factory=uow_factory, gateway=gateway, clock=clock)
    base = return_url.rstrip("/")
    return await gateway.create_setup_session(
        SetupRequest(
            customer_id=customer,
            user_id=user_id,
            success_url=f"{base}/?card_setup=succeeded",
            cancel_url=f"{base}/?card_setup=canceled",
            idempotency_key=new_id("card_setup"),
        )
    )


async def saved_card(
    user_id: str, *, uow_factory: UnitOfWorkFactory, gateway: CardGateway
) -> SavedCard | None:
    async with uow_factory() as uow:
        customer = await uow.customers.get(user_id)
    return None if customer is None else await gateway.default_card(customer)


async def remove_saved_card(
    user_id: str, *, uow_factory: UnitOfWorkFactory, gateway: CardGateway
) -> None:
    async with uow_factory() as uow:
        customer = await uow.customers.get(user_id)
    if customer is not None:
        await gateway.remove_default_card(customer)
