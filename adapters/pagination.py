"""Opaque keyset cursors: the sort key of the last row of a page, base64-encoded.

Shared by the SQL and the memory adapters so both paginate the same way.

Opaque so clients cannot build one by hand and so the key can change without
breaking them; a cursor that does not decode is a validation error (400), not a 500.
The client can still send any bytes, so a cursor decodes only to what every store
can compare: ASCII digits within int64, a time that stays on the calendar in UTC,
no NUL byte (PostgreSQL refuses it in text).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from domain.errors import ValidationFailed

_SEP = "|"
_INT64_MAX = 2**63 - 1


def encode_cursor(*parts: str) -> str:
    raw = _SEP.join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _invalid() from exc
    parts = raw.split(_SEP, size - 1)
    if len(parts) != size or "\x00" in raw:
        raise _invalid()
    return parts


def decode_int(cursor: str) -> int:
    (value,) = decode_cursor(cursor, 1)
    # str.isdigit is true for "²" and "٣" too; int() fails on the first, reads the second.
    if not (value.isascii() and value.isdigit()) or int(value) > _INT64_MAX:
        raise _invalid()
    return int(value)


def decode_time_and_id(cursor: str) -> tuple[datetime, str]:
    created, row_id = decode_cursor(cursor, 2)
    try:
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not row_id:
            raise _invalid()
        return when.astimezone(UTC), row_id
    except (ValueError, OverflowError) as exc:
        raise _invalid() from exc


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValidationFailed("limit must be at least 1", code="invalid_limit")


def _invalid() -> ValidationFailed:
    return ValidationFailed("the pagination cursor is not valid", code="invalid_cursor")
