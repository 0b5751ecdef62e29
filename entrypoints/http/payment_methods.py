"""/api/stripe/payment-methods: the card auto top-up charges, saved through a Checkout
Session in setup mode, shown and removed by its user."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency

from application.accounts.users import Principal
from application.auto_top_up.cards import SavedCard, SetupSession
from entrypoints.http.openapi import errors
from entrypoints.http.params import UseCase


class SetupOut(msgspec.Struct):
    session_id: str
    url: str


class PaymentMethodOut(msgspec.Struct):
    """``card`` is null when no card is saved."""

    card: SavedCardOut | None


class SavedCardOut(msgspec.Struct):
    brand: str
    last4: str


class PaymentMethodsController(Controller):
    path = "/api/stripe/payment-methods"
    tags = ["auto top-up"]

    @post("/setup", status_code=200, responses=errors(503))
    async def setup(
        self,
        principal: NamedDependency[Principal],
        start_card_setup: NamedDependency[UseCase[SetupSession]],
    ) -> SetupOut:
        session = await start_card_setup(principal.require_user().id)
        return SetupOut(session.session_id, session.url)

    @get("/", responses=errors(503))
    async def show(
        self,
        principal: NamedDependency[Principal],
        saved_card: NamedDependency[UseCase[SavedCard | None]],
    ) -> PaymentMethodOut:
        card = await saved_card(principal.require_user().id)
        return PaymentMethodOut(None if card is None else SavedCardOut(card.brand, card.last4))

    @delete("/", status_code=204, responses=errors(503))
    async def remove(
        self,
        principal: NamedDependency[Principal],
        remove_saved_card: NamedDependency[UseCase[None]],
    ) -> Response[None]:
        await remove_saved_card(principal.require_user().id)
        return Response(None, status_code=204)
