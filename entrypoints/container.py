"""The composition root: the only module that knows dependency-injector.

It picks the gateway adapter from configuration (stripe or sandbox) and builds the
database, unit of work and clock that every entrypoint (HTTP, CLI, batch) shares.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import SystemClock
from adapters.sandbox.gateway import SandboxGateway
from adapters.sandbox.sql_store import SqlSandboxStore
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from adapters.stripe.client import StripeGateway
from application.gateway import PaymentGateway
from application.ports import Clock, UnitOfWorkFactory
from application.webhooks.gateway import InvalidSignature, MalformedEvent
from application.webhooks.handling import EventNotReady
from application.webhooks.receive_webhook import receive_webhook
from entrypoints.settings import Settings

log = logging.getLogger(__name__)


class InProcessDelivery:
    """Hands the sandbox's signed events to the webhook path, as Stripe would over HTTP."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self.gateway: PaymentGateway | None = None

    async def __call__(self, payload: bytes, signature: str) -> int:
        assert self.gateway is not None, "bind the gateway before delivering"
        try:
            await receive_webhook(
                payload,
                signature,
                gateway=self.gateway,
                uow_factory=self._uow_factory,
                clock=self._clock,
            )
        except (InvalidSignature, MalformedEvent):
            return 400
        except EventNotReady:
            return 503
        except Exception:
            log.exception("sandbox_delivery_failed")
            return 500
        return 200


def _sandbox(
    settings: Settings, uow_factory: UnitOfWorkFactory, clock: Clock, engine: AsyncEngine
) -> SandboxGateway:
    delivery = InProcessDelivery(uow_factory, clock)
    gateway = SandboxGateway(
        webhook_secrets=settings.stripe_webhook_secrets,
        public_url=settings.public_url,
        now=clock.now,
        deliver=delivery,
        store=SqlSandboxStore(engine),  # one sandbox for every process on the database
    )
    delivery.gateway = gateway
    return gateway


def _stripe(settings: Settings) -> StripeGateway:
    assert settings.stripe_secret_key is not None
    return StripeGateway(
        secret_key=settings.stripe_secret_key,
        webhook_secrets=settings.stripe_webhook_secrets,
        api_base=settings.stripe_api_base,
    )


def _uow_factory(engine: object) -> Callable[[], SqlAlchemyUnitOfWork]:
    return functools.partial(SqlAlchemyUnitOfWork, engine)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(make_engine, settings.provided.database_url)
    uow_factory = providers.Singleton(_uow_factory, engine)
    gateway = providers.Selector(
        settings.provided.payment_gateway,
        sandbox=providers.Singleton(_sandbox, settings, uow_factory, clock, engine),
        stripe=providers.Singleton(_stripe, settings),
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
