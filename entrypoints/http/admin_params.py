"""Query parameters of the operator API: a window's bounds and the payment filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar.params import QueryParameter

from application.admin.ports import PaymentFilter
from domain.errors import DomainError

# A date, or a date-time with its zone; a well-formed bound off the calendar is a 422.
ISO_MOMENT = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$"
_BOUND: dict[str, Any] = {
    "required": False,
    "pattern": ISO_MOMENT,
    "description": "ISO date (UTC midnight) or date-time with its zone",
}
From = Annotated[str | None, QueryParameter(name="from", **_BOUND)]
To = Annotated[str | None, QueryParameter(name="to", **_BOUND)]


def moment(raw: str | None, name: str) -> datetime | None:
    """A date is its UTC midnight; a date-time must say its zone (``Z`` or an offset)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{name} is not a date on the calendar", code="invalid_window") from None
    if when.tzinfo is None:
        raise DomainError(f"{name} needs a time zone (Z or +hh:mm)", code="invalid_window")
    return when.astimezone(UTC)


def payment_filter(
    status: str | None, user_id: str | None, start: str | None, end: str | None
) -> PaymentFilter:
    return PaymentFilter(
        status=status or None,
        user_id=user_id or None,
        created_from=moment(start, "from"),
        created_to=moment(end, "to"),
    )
