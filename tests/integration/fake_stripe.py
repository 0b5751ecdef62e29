"""A local stand-in for Stripe's Checkout Sessions API, which localstripe lacks, and for
the off-session charges of a customer's default card.

It answers with Stripe-shaped sessions and records every request (decoded form,
headers), so tests can assert what the adapter sent. Tests move sessions along with
``complete`` and make the next request fail with ``fail_next``. An off-session charge
of a card saved with ``saved_card(..., needs_authentication=True)`` fails as Stripe's
does (402 ``authentication_required``, the PaymentIntent in the error), and can then be
canceled.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from tests.integration.stripe_http import Handler, IdempotencyCache, decode_form, stripe_error


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: CIMultiDict[str]
    form: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    status: int
    message: str
    error_type: str
    headers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


class FakeStripe:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.invoice_payments: list[dict[str, Any]] = []
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.needs_authentication: set[str] = set()  # payment methods asking off-session
        self._failures: deque[Failure] = deque()
        app = web.Application(middlewares=[self._record, self._fail, IdempotencyCache().middleware])
        app.router.add_post("/v1/checkout/sessions", self._create)
        app.router.add_get("/v1/checkout/sessions/{id}", self._retrieve)
        app.router.add_post("/v1/checkout/sessions/{id}/expire", self._expire)
        app.router.add_get("/v1/invoice_payments", self._invoice_payments)
        app.router.add_get("/v1/setup_intents/{id}", self._setup_intent)
        app.router.add_post("/v1/customers/{id}", self._update_customer)
        app.router.add_get("/v1/customers/{id}", self._customer)
        app.router.add_post("/v1/payment_intents", self._create_intent)
        app.router.add_get("/v1/payment_intents/{id}", self._intent)
        app.router.add_post("/v1/payment_intents/{id}/cancel", self._cancel_intent)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> None:
        await self._server.start_server()

    async def close(self) -> None:
        await self._server.close()

    def fail_next(
        self,
        status: int,
        message: str,
        error_type: str = "api_error",
        headers: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        """Answer the next request with a Stripe error (``fields``: code, ...) instead."""
        self._failures.append(Failure(status, message, error_type, headers or {}, fields))

    def complete(self, session_id: str, *, paid: bool, payment_intent: Any) -> None:
        """What Stripe does when the customer pays (or starts a delayed payment)."""
        self.sessions[session_id].update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            payment_intent=payment_intent,
            url=None,
        )

    def default_card(
        self, customer_id: str, payment_method: str, *, needs_authentication: bool = False
    ) -> None:
        """A customer whose default payment method is ``payment_method`` (a completed
        setup), which off-session asks for authentication if ``needs_authentication``."""
        self.customers[customer_id] = {
            "id": customer_id,
            "object": "customer",
            "invoice_settings": {"default_payment_method": payment_method},
        }
        if needs_authentication:
            self.needs_authentication.add(payment_method)

    def saved_card(self, customer_id: str, payment_method: str | None) -> str:
        """What a completed setup-mode Checkout leaves: a customer, and a SetupIntent that
        saved ``payment_method`` for it (None: the setup saved nothing)."""
        self.customers.setdefault(
            customer_id,
            {"id": customer_id, "object": "customer", "invoice_settings": {}},
        )
        setup_id = "seti_" + secrets.token_hex(12)
        self.setup_intents[setup_id] = {
            "id": setup_id,
            "object": "setup_intent",
            "customer": customer_id,
            "payment_method": payment_method,
            "status": "succeeded" if payment_method else "requires_payment_method",
            "usage": "off_session",
            "livemode": False,
        }
        return setup_id

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.text()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                CIMultiDict(request.headers),
                decode_form(body or request.query_string),
            )
        )
        return await handler(request)

    @web.middleware
    async def _fail(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self._failures:
            return await handler(request)
        failure = self._failures.popleft()
        response = stripe_error(
            failure.status, failure.message, failure.error_type, **failure.fields
        )
        response.headers.update(failure.headers)
        return response

    async def _create(self, request: web.Request) -> web.Response:
        form = decode_form(await request.text())
        line = form["line_items"][0]
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(line["price_data"]["unit_amount"]) * int(line["quantity"]),
            "currency": line["price_data"]["currency"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "expires_at": int(form["expires_at"]),
            "created": int(time.time()),
            "livemode": False,
            "payment_intent": None,
            "customer": form.get("customer"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return web.json_response(session)

    async def _retrieve(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _missing(request.match_info["id"])
        return web.json_response(session)

    async def _expire(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _missing(request.match_info["id"])
        if session["status"] != "open":
            return stripe_error(
                400,
                f"Only Checkout Sessions with a status of `open` can be expired. "
                f"This Checkout Session has a status of `{session['status']}`.",
            )
        session.update(status="expired", url=None)
        return web.json_response(session)

    async def _invoice_payments(self, request: web.Request) -> web.Response:
        """The invoice payments of one PaymentIntent, invoices expanded when asked."""
        query = decode_form(request.query_string)
        intent = query.get("payment", {}).get("payment_intent")
        expand = "data.invoice" in query.get("expand", [])
        found = [
            {
                **p,
                "invoice": self.invoices.get(p["invoice"], p["invoice"])
                if expand
                else p["invoice"],
            }
            for p in self.invoice_payments
            if p["payment"].get("payment_intent") == intent
        ]
        return web.json_response(
            {"object": "list", "data": found, "has_more": False, "url": "/v1/invoice_payments"}
        )

    async def _setup_intent(self, request: web.Request) -> web.Response:
        intent = self.setup_intents.get(request.match_info["id"])
        if intent is None:
            return _missing(request.match_info["id"], "setup_intent")
        return web.json_response(intent)

    async def _update_customer(self, request: web.Request) -> web.Response:
        """Only ``invoice_settings[default_payment_method]`` is understood, as the adapter
        sends it; anything else is rejected, as Stripe rejects unknown parameters."""
        customer = self.customers.get(request.match_info["id"])
        if customer is None:
            return _missing(request.match_info["id"], "customer")
        form = decode_form(await request.text())
        settings = form.get("invoice_settings")
        if set(form) != {"invoice_settings"} or set(settings or {}) != {"default_payment_method"}:
            return stripe_error(400, f"Received unknown parameters: {sorted(form)}")
        customer["invoice_settings"] = {**customer["invoice_settings"], **settings}
        return web.json_response(customer)

    async def _customer(self, request: web.Request) -> web.Response:
        customer = self.customers.get(request.match_info["id"])
        if customer is None:
            return _missing(request.match_info["id"], "customer")
        return web.json_response(customer)

    async def _create_intent(self, request: web.Request) -> web.Response:
        """Only confirmed off-session charges of a saved card, as auto top-up makes them."""
        form = decode_form(await request.text())
        intent_id = "pi_" + secrets.token_hex(12)
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "amount_received": 0,
            "currency": form["currency"],
            "customer": form.get("customer"),
            "payment_method": form.get("payment_method"),
            "metadata": form.get("metadata", {}),
            "status": "succeeded",
            "livemode": False,
        }
        self.payment_intents[intent_id] = intent
        if form.get("payment_method") not in self.needs_authentication:
            intent["amount_received"] = intent["amount"]
            return web.json_response(intent)
        error = {
            "type": "card_error",
            "code": "authentication_required",
            "decline_code": "authentication_required",
            "message": "Your card was declined. This transaction requires authentication.",
        }
        intent.update(status="requires_payment_method", last_payment_error=error)
        return web.json_response({"error": {**error, "payment_intent": intent}}, status=402)

    async def _intent(self, request: web.Request) -> web.Response:
        intent = self.payment_intents.get(request.match_info["id"])
        if intent is None:
            return _missing(request.match_info["id"], "payment_intent")
        return web.json_response(intent)

    async def _cancel_intent(self, request: web.Request) -> web.Response:
        intent = self.payment_intents.get(request.match_info["id"])
        if intent is None:
            return _missing(request.match_info["id"], "payment_intent")
        if intent["status"] in ("canceled", "succeeded"):
            return stripe_error(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", cancellation_reason="requested_by_customer")
        return web.json_response(intent)


def _missing(object_id: str, kind: str = "checkout.session") -> web.Response:
    return stripe_error(404, f"No such {kind}: '{object_id}'", code="resource_missing")
