"""The user's gateway customer: created once, stored, and reused by every later call
(subscriptions now, saved cards later)."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from application.subscriptions.gateway import CustomerRequest, SubscriptionGateway
from domain.errors import NotFound


async def customer_of(
    user_id: str, *, uow_factory: UnitOfWorkFactory, gateway: SubscriptionGateway, clock: Clock
) -> str:
    """The stored customer, or a new one. The gateway call is keyed by the user, so two
    concurrent first calls get one customer; the first stored wins either way."""
    async with uow_factory() as uow:
        known = await uow.customers.get(user_id)
        user = await uow.users.get(user_id)
    if known is not None:
        return known
    if user is None:
        raise NotFound(f"no such user: {user_id}")
    created = await gateway.create_customer(
        CustomerRequest(user_id=user_id, email=user.email, idempotency_key=f"customer:{user_id}")
    )
    async with uow_factory() as uow:
        stored = await uow.customers.add(user_id, created, clock.now())
        await uow.commit()
    return stored
