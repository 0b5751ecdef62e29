"""Reading Stripe objects (plain dicts) defensively: a wrong type reads as absent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def timestamp(value: Any) -> datetime | None:
    seconds = integer(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def object_id(value: Any) -> str | None:
    """Stripe fields hold an id, or the object itself when expanded."""
    if isinstance(value, Mapping):
        return text(value.get("id"))
    return text(value)


def metadata(value: Any) -> dict[str, str]:
    """Entries holding a NUL byte are dropped: no database stores them, ours never hold one."""
    if not isinstance(value, Mapping):
        return {}
    pairs = ((str(k), str(v)) for k, v in value.items() if v is not None)
    return {k: v for k, v in pairs if "\x00" not in k + v}
