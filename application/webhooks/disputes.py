"""The disputes port: one record per gateway dispute id (``uow.disputes``)."""

from __future__ import annotations

from typing import Protocol

from domain.disputes import Dispute


class DisputeRepository(Protocol):
    async def add(self, dispute: Dispute) -> None: ...

    async def get(self, dispute_id: str, *, for_update: bool = False) -> Dispute | None: ...

    async def save(self, dispute: Dispute) -> None: ...
