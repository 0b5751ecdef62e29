"""``creditline batch expire-sessions`` in a process of its own settles the server's
sandbox sessions, as it would Stripe's.

The "server" here is a container in this process whose clock runs two hours behind,
so the sessions it opens (one hour long) are stale on the batch's wall clock. One is
paid at the sandbox with its webhooks lost (``deliver: never``), one is left unpaid.
The batch process must find both at the sandbox: fulfil the paid one, expire the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from dependency_injector import providers

from adapters.clock import FixedClock
from adapters.sandbox.gateway import SandboxGateway
from application.accounts.users import create_user
from application.purchases.create_checkout_session import (
    CheckoutSettings,
    CreateCheckoutSession,
    create_checkout_session,
)
from application.purchases.orders import Order
from domain.payment import PaymentStatus
from domain.redirects import RedirectPolicy
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings

SECRET = "whsec_batch_process_test"
CARD = "4242424242424242"


def server(db_url: str) -> Container:
    container = build_container(Settings(database_url=db_url, stripe_webhook_secrets=(SECRET,)))
    container.clock.override(providers.Object(FixedClock(datetime.now(UTC) - timedelta(hours=2))))
    return container


async def open_checkout(container: Container, amount: int) -> tuple[str, str, str]:
    """A new user's Checkout payment: (user id, payment id, session id)."""
    settings, clock = container.settings(), container.clock()
    user = await create_user(
        f"batch-{amount}-{os.urandom(4).hex()}@example.com",
        uow_factory=container.uow_factory(),
        clock=clock,
    )
    created = await create_checkout_session(
        CreateCheckoutSession(Order(user.user.id, amount, "usd", None, None, None)),
        uow_factory=container.uow_factory(),
        gateway=container.gateway(),
        clock=clock,
        settings=CheckoutSettings(
            settings.pricing, RedirectPolicy(settings.frontend_url), timedelta(hours=1)
        ),
    )
    async with container.uow_factory()() as uow:
        payment = await uow.payments.get(created.payment_id)
    assert payment is not None and payment.stripe_session_id is not None
    return user.user.id, payment.id, payment.stripe_session_id


def run_batch(
    db_url: str, job: str = "expire-sessions", secret: str = SECRET
) -> tuple[int, dict[str, object]]:
    """``creditline batch <job> --json`` in its own process on the sandbox: exit code, report."""
    env = os.environ | {
        "DATABASE_URL": db_url,
        "PAYMENT_GATEWAY": "sandbox",
        "STRIPE_WEBHOOK_SECRET": secret,
    }
    command = [sys.executable, "-c", "from entrypoints.cli import main; main()"]
    done = subprocess.run(
        [*command, "batch", job, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


async def test_a_separate_batch_process_settles_the_servers_sandbox_sessions(
    db_url: str,
) -> None:
    container = server(db_url)
    sandbox = container.gateway()
    assert isinstance(sandbox, SandboxGateway)
    payer, paid, paid_session = await open_checkout(container, 1000)
    _, unpaid, _ = await open_checkout(container, 2000)
    await sandbox.pay_checkout(paid_session, CARD, "never")
    await container.engine().dispose()

    code, report = await asyncio.to_thread(run_batch, db_url)

    assert (code, report["ok"], report["counts"]) == (0, True, {"fulfilled": 1, "expired": 1})
    async with container.uow_factory()() as uow:
        account = await uow.ledger.account(payer)
        statuses = [(await uow.payments.get(p)) for p in (paid, unpaid)]
    assert account is not None and account.balance == 1000
    assert [p.status if p else None for p in statuses] == [
        PaymentStatus.COMPLETED,
        PaymentStatus.EXPIRED,
    ]
    session = await sandbox.get_checkout(paid_session)
    assert session.paid
    await container.engine().dispose()
