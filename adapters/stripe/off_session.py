"""Off-session charges of a customer's default payment method on Stripe.

One call creates and confirms the PaymentIntent (``off_session``, ``confirm``) under
the attempt's idempotency key. A card that needs its holder fails with the code
``authentication_required``; the PaymentIntent then waits for the user to confirm it
on-session.
"""

from __future__ import annotations

from typing import Any

import stripe

from adapters.stripe import params
from adapters.stripe.errors import translated_errors
from application.auto_top_up.cards import SavedCard, SetupRequest, SetupSession
from application.auto_top_up.ports import ChargeOutcome, OffSessionCharge, OffSessionRequest


class StripeOffSession:
    _client: stripe.StripeClient
    _secret_key: str

    async def charge_off_session(self, request: OffSessionRequest) -> OffSessionCharge:
        with translated_errors(self._secret_key):
            customer = await self._client.v1.customers.retrieve_async(request.customer_id)
        method = (customer.to_dict().get("invoice_settings") or {}).get("default_payment_method")
        if not method:
            return OffSessionCharge(ChargeOutcome.NO_PAYMENT_METHOD, error="no_payment_method")
        body: Any = {
            **params.intent_params(request.as_intent()),
            "customer": request.customer_id,
            "payment_method": method if isinstance(method, str) else method["id"],
            "off_session": True,
            "confirm": True,
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                body, {"idempotency_key": request.idempotency_key}
            )
        except stripe.CardError as exc:
            return _card_error(exc)
        return OffSessionCharge(ChargeOutcome.SUCCEEDED, intent.id)


def _card_error(exc: stripe.CardError) -> OffSessionCharge:
    error = exc.error
    intent = getattr(error, "payment_intent", None) if error is not None else None
    intent_id = getattr(intent, "id", None)
    code = (
        (getattr(error, "decline_code", None) or exc.code or "card_declined")
        if error
        else "card_declined"
    )
    if exc.code == "authentication_required":
        return OffSessionCharge(ChargeOutcome.AUTHENTICATION_REQUIRED, intent_id, exc.code)
    return OffSessionCharge(ChargeOutcome.DECLINED, intent_id, code)


class StripeCards:
    """Setup-mode Checkout and the customer's default card.

    Stripe's completion of a setup session arrives as a webhook
    (``checkout.session.completed`` in setup mode); making its payment method the
    customer's default is the webhook path's part.
    """

    _client: stripe.StripeClient
    _secret_key: str

    async def create_setup_session(self, request: SetupRequest) -> SetupSession:
        body: Any = {
            "mode": "setup",
            "currency": "usd",
            "customer": request.customer_id,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": {"user_id": request.user_id, "purpose": params.SETUP_PURPOSE},
        }
        with translated_errors(self._secret_key):
            session = await self._client.v1.checkout.sessions.create_async(
                body, {"idempotency_key": request.idempotency_key}
            )
        return SetupSession(session.id, session.url or "")

    async def use_setup_payment_method(self, setup_intent_id: str, customer_id: str) -> str | None:
        """The method the SetupIntent saved, made the customer's default; None when it saved
        none for this customer. Setting the same default again changes nothing."""
        with translated_errors(self._secret_key):
            intent = await self._client.v1.setup_intents.retrieve_async(setup_intent_id)
        saved = intent.to_dict()
        method = saved.get("payment_method")
        method = method.get("id") if isinstance(method, dict) else method
        owner = saved.get("customer")
        owner = owner.get("id") if isinstance(owner, dict) else owner
        if not isinstance(method, str) or owner not in (None, customer_id):
            return None
        body: Any = {"invoice_settings": {"default_payment_method": method}}
        with translated_errors(self._secret_key):
            await self._client.v1.customers.update_async(customer_id, body)
        return method

    async def default_card(self, customer_id: str) -> SavedCard | None:
        method = await self._default_method(customer_id)
        if method is None:
            return None
        card = method.get("card") or {}
        return SavedCard(brand=str(card.get("brand", "")), last4=str(card.get("last4", "")))

    async def remove_default_card(self, customer_id: str) -> None:
        method = await self._default_method(customer_id)
        if method is not None:
            with translated_errors(self._secret_key):
                await self._client.v1.payment_methods.detach_async(method["id"])

    async def _default_method(self, customer_id: str) -> dict[str, Any] | None:
        with translated_errors(self._secret_key):
            customer = await self._client.v1.customers.retrieve_async(
                customer_id, {"expand": ["invoice_settings.default_payment_method"]}
            )
        method = (customer.to_dict().get("invoice_settings") or {}).get("default_payment_method")
        return method if isinstance(method, dict) else None
