"""The dialect-specific ``INSERT`` that carries ``ON CONFLICT`` for this connection."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

Insert = postgresql.Insert | sqlite.Insert


def per_dialect(build: Callable[[Callable[[Table], Insert]], Insert]) -> dict[str, Insert]:
    """An ``INSERT ... ON CONFLICT`` built once for each dialect (select it by name).

    A statement built per call costs SQLAlchemy a cache-key traversal (and the
    building itself) on every execution; a module-level one with ``bindparam``s
    is keyed once and reused, which halves the CPU of the webhook path.
    """
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def insert_for(connection: AsyncConnection) -> Callable[[Table], Insert]:
    """``postgresql.insert`` or ``sqlite.insert``: both spell ON CONFLICT the same way."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise ValueError(f"no ON CONFLICT support for dialect '{name}'")
