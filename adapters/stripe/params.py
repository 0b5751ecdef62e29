"""Stripe request parameters built from our gateway requests.

Only server-side values go into metadata (docs/failure-modes.md #6, 7): the request types carry no
client-supplied metadata, and nothing here adds any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from stripe.params import PaymentIntentCreateParams, RefundCreateParams
from stripe.params.checkout import SessionCreateParams

from application.purchases.gateway import CheckoutRequest, PaymentIntentRequest
from application.refunds.gateway import RefundRequest

StripeRefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]
# Stripe rejects any other refund reason; ours are kept in metadata instead.
STRIPE_REFUND_REASONS: Mapping[str, StripeRefundReason] = {
    "duplicate": "duplicate",
    "fraudulent": "fraudulent",
    "requested_by_customer": "requested_by_customer",
}
METADATA_VALUE_MAX = 500
CHECKOUT_SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
SETUP_PURPOSE = "auto_top_up"
"""The ``purpose`` metadata of our setup-mode sessions, which their completion checks."""


def checkout_params(req: CheckoutRequest) -> SessionCreateParams:
    """One priced line for the whole amount; metadata holds only server-side values.

    The PaymentIntent gets the payment and user ids too, so a ``payment_intent.succeeded``
    that overtakes ``checkout.session.completed`` can still be matched to the payment.
    An auto top-up's Checkout is made for the user's customer and names the top-up.
    """
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": req.currency,
                    "unit_amount": req.amount,
                    "product_data": {"name": req.description},
                },
                "quantity": 1,
            }
        ],
        "success_url": with_session_placeholder(req.success_url),
        "cancel_url": req.cancel_url,
        "expires_at": int(req.expires_at.timestamp()),
        "client_reference_id": req.payment_id,
        "metadata": {
            "payment_id": req.payment_id,
            "user_id": req.user_id,
            "credits": str(req.credits),
        },
        "payment_intent_data": {
            "metadata": {"payment_id": req.payment_id, "user_id": req.user_id},
        },
    }
    if req.customer_id is not None:
        params["customer"] = req.customer_id
    if req.auto_top_up_id is not None:
        params["metadata"] = {**params["metadata"], "auto_top_up_id": req.auto_top_up_id}
    return params


def with_session_placeholder(url: str) -> str:
    """Append ``session_id={CHECKOUT_SESSION_ID}``; Stripe needs the braces verbatim."""
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{separator}session_id={CHECKOUT_SESSION_PLACEHOLDER}{hash_mark}{fragment}"


def intent_params(req: PaymentIntentRequest) -> PaymentIntentCreateParams:
    """No payment-method parameters: Stripe then enables automatic payment methods.

    The pinned API version replaced ``payment_method_types`` by
    ``allowed_payment_method_types``, which localstripe does not know; leaving both out
    gets Stripe's default and is accepted by both servers.
    """
    return {
        "amount": req.amount,
        "currency": req.currency,
        "description": req.description,
        "metadata": {
            "payment_id": req.payment_id,
            "user_id": req.user_id,
            "credits": str(req.credits),
        },
    }


def refund_params(req: RefundRequest) -> RefundCreateParams:
    """Stripe's own reasons go to Stripe (``fraudulent`` feeds Radar's block lists)."""
    metadata = {"payment_id": req.payment_id}
    params: RefundCreateParams = {
        "payment_intent": req.payment_intent_id,
        "amount": req.amount,
        "metadata": metadata,
    }
    stripe_reason = STRIPE_REFUND_REASONS.get(req.reason or "")
    if stripe_reason is not None:
        params["reason"] = stripe_reason
    elif req.reason:
        metadata["reason"] = req.reason[:METADATA_VALUE_MAX]
    return params
