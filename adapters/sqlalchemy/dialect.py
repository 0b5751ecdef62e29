"""The dialect-specific ``INSERT`` that carries ``ON CONFLICT`` for this connection, and
constants written into SQL text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sqlalchemy import ColumnElement, Table, literal_column
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


_WORD = re.compile(r"[a-z_]+")


def one_of(column: ColumnElement[str], values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b')`` with the constants in the SQL text, not bound.

    ``in_()`` of a list binds an "expanding" parameter that SQLAlchemy renders anew on
    every execution (a tenth of a balance read's CPU); constants in the text cost
    nothing per call, and let PostgreSQL match a partial index whose predicate names
    them even in a generic plan. Only our own enum values (lower-case words) qualify.
    """
    words = sorted(values)
    if not words or not all(_WORD.fullmatch(word) for word in words):
        raise ValueError(f"one_of takes lower-case words only, not {words!r}")
    return column.in_([literal_column(f"'{word}'") for word in words])
