"""``PATCH /api/users/me/settings`` (and for a service, on behalf of a user): the
alert settings, changed field by field; the flags are kept, so an alert already fired
does not fire again until its condition has stopped holding."""

from __future__ import annotations

from dataclasses import replace

from application.ports import Clock, UnitOfWorkFactory
from domain.alerts import AlertSettings
from domain.errors import NotFound


async def update_alert_settings(
    user_id: str, changes: dict[str, int | None], *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> AlertSettings:
    """``changes``: the fields given (None turns an alert off); the others stay."""
    async with uow_factory() as uow:
        if await uow.users.get(user_id) is None:
            raise NotFound(f"no user {user_id}")
        state = await uow.alerts.get(user_id, for_update=True)
        settings = replace(state.settings, **changes)
        await uow.alerts.save_settings(user_id, settings, clock.now())
        await uow.commit()
    return settings
