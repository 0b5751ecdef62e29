"""Payments as CSV, one row at a time: the export never holds every row in memory.

Text a customer could have chosen (a description) is written so that a spreadsheet
shows it as text: a leading ``= + - @`` would otherwise be run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from domain.payment import Payment

COLUMNS = (
    "id",
    "user_id",
    "kind",
    "status",
    "amount",
    "currency",
    "amount_display",
    "credits",
    "amount_refunded",
    "credits_reversed",
    "created_at",
    "completed_at",
    "stripe_payment_intent_id",
    "stripe_session_id",
    "package_id",
    "description",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(getattr(value, "value", value))
    return f"'{text}" if isinstance(value, str) and text.startswith(_FORMULA) else text


def _row(payment: Payment) -> list[str]:
    values = {name: getattr(payment, name, None) for name in COLUMNS}
    values["amount_display"] = payment.price.format()
    return [_cell(values[name]) for name in COLUMNS]


def _line(cells: list[str] | tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode("utf-8")


async def csv_lines(payments: AsyncIterator[Payment]) -> AsyncIterator[bytes]:
    yield _line(COLUMNS)
    async for payment in payments:
        yield _line(_row(payment))
