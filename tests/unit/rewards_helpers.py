"""Arranging referrals, trials and purchases on the unit tests' memory ``App``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from application.accounts.users import CreatedUser, create_user
from domain.payment import Payment
from domain.referral import ReferralTerms
from domain.trial import TrialTerms
from tests.unit.conftest import App

TERMS = ReferralTerms(min_purchase=1000, bonus_credits=1000, max_uses=10)


async def sign_up(
    app: App,
    email: str | None = None,
    *,
    code: str | None = None,
    terms: ReferralTerms = TERMS,
    trial: TrialTerms | None = None,
) -> CreatedUser:
    return await create_user(
        email or f"user-{secrets.token_hex(4)}@example.com",
        referred_by_code=code,
        referral_terms=terms,
        trial_terms=trial,
        uow_factory=app.store.uow_factory,
        clock=app.clock,
    )


async def buy(app: App, user_id: str, amount: int = 1000, currency: str = "usd") -> Payment:
    """A checkout paid at the gateway and its events handled: a completed purchase.

    Opened a second after anything before it, so the first purchase is well defined.
    """
    app.clock.advance(timedelta(seconds=1))
    created = await app.checkout(user_id, amount, currency)
    await app.handle_all(await app.pay(app.payment(created.payment_id)))
    return app.payment(created.payment_id)


async def refund(app: App, payment: Payment, amount: int) -> Payment:
    _, events = await app.refund_at_gateway(payment, amount)
    await app.handle_all(events)
    return app.payment(payment.id)
