"""/sandbox: the sandbox gateway's test checkout page and its small JSON API.

Mounted only when the sandbox is the configured gateway (never in production). The
JSON API is what the page's script, scripts and end-to-end tests use to play the
customer; domain errors raised here go through the app's one exception mapping.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.page import content_security_policy, render_checkout, render_not_found
from adapters.sandbox.records import Outcome
from domain.errors import NotFound

Deliver = Literal["now", "never"]
Sandbox = NamedDependency[SandboxGateway]
"""The app provides the gateway under the dependency name ``sandbox``."""


class PayIn(msgspec.Struct, forbid_unknown_fields=True):
    card_number: str
    deliver: Deliver = "now"


class ExpireIn(msgspec.Struct, forbid_unknown_fields=True):
    deliver: Deliver = "now"


class AuthenticateIn(msgspec.Struct, forbid_unknown_fields=True):
    succeed: bool
    deliver: Deliver = "now"


class SandboxOut(msgspec.Struct):
    """``events`` are the Stripe-shaped events produced, whether delivered or not."""

    status: str
    events: list[dict[str, Any]]
    message: str | None = None


def _out(outcome: Outcome) -> SandboxOut:
    return SandboxOut(outcome.status, outcome.payloads(), outcome.message)


def _page(body: str, nonce: str, status_code: int = 200) -> Response[str]:
    return Response(
        body,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={
            "Content-Security-Policy": content_security_policy(nonce),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


class SandboxController(Controller):
    path = "/sandbox"
    include_in_schema = False

    @get("/checkout/{session_id:str}")
    async def checkout_page(self, session_id: FromPath[str], sandbox: Sandbox) -> Response[str]:
        nonce = secrets.token_urlsafe(16)
        try:
            details = await sandbox.checkout_details(session_id)
        except NotFound:
            return _page(render_not_found(nonce), nonce, status_code=404)
        return _page(render_checkout(details, nonce), nonce)

    @post("/checkout/{session_id:str}/pay", status_code=200)
    async def pay_checkout(
        self, session_id: FromPath[str], data: JSONBody[PayIn], sandbox: Sandbox
    ) -> SandboxOut:
        return _out(await sandbox.pay_checkout(session_id, data.card_number, data.deliver))

    @post("/checkout/{session_id:str}/expire", status_code=200)
    async def expire_checkout(
        self, session_id: FromPath[str], sandbox: Sandbox, data: JSONBody[ExpireIn | None] = None
    ) -> SandboxOut:
        deliver = data.deliver if data is not None else "now"
        return _out(await sandbox.expire_checkout_now(session_id, deliver))

    @post("/payment-intents/{payment_intent_id:str}/confirm", status_code=200)
    async def confirm_payment_intent(
        self, payment_intent_id: FromPath[str], data: JSONBody[PayIn], sandbox: Sandbox
    ) -> SandboxOut:
        outcome = await sandbox.confirm_payment_intent(
            payment_intent_id, data.card_number, data.deliver
        )
        return _out(outcome)

    @post("/authenticate/{object_id:str}", status_code=200)
    async def authenticate(
        self, object_id: FromPath[str], data: JSONBody[AuthenticateIn], sandbox: Sandbox
    ) -> SandboxOut:
        """3-D Secure for a checkout session id or a PaymentIntent id."""
        return _out(await sandbox.authenticate(object_id, data.succeed, data.deliver))
