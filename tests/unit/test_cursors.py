"""Keyset cursors decode to values every store can compare, or are refused as invalid.

A cursor is opaque but comes from the client: whatever it decodes to must be a
ValidationFailed ``invalid_cursor``, never an exception from ``int()``,
``astimezone`` or the database driver.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.pagination import decode_int, decode_time_and_id, encode_cursor
from domain.errors import ValidationFailed

INT64_MAX = 2**63 - 1


def test_an_id_cursor_round_trips_up_to_int64() -> None:
    assert decode_int(encode_cursor("42")) == 42
    assert decode_int(encode_cursor(str(INT64_MAX))) == INT64_MAX


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "١٢", "\uff14\uff12", str(INT64_MAX + 1), "9" * 100, "", "-1", "+1", " 1", "1\x00"],
    ids=[
        "superscript",
        "arabic_indic",
        "arabic_indic_two",
        "fullwidth",
        "past_int64",
        "far_past_int64",
        "empty",
        "negative",
        "plus",
        "space",
        "nul",
    ],
)
def test_an_id_cursor_that_is_not_a_plain_int64_is_invalid(value: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_int(encode_cursor(value))
    assert refused.value.code == "invalid_cursor"


def test_a_time_cursor_round_trips_as_the_same_instant_in_utc() -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    decoded, row_id = decode_time_and_id(encode_cursor(when.isoformat(), "pay_1"))
    assert (decoded, row_id) == (when, "pay_1")
    assert decoded.tzinfo == UTC


@pytest.mark.parametrize(
    ("created", "row_id"),
    [
        ("9999-12-31T23:59:59-23:59", "row"),
        ("0001-01-01T00:00:00+23:59", "row"),
        ("2026-01-01T00:00:00", "row"),
        ("2026-01-01T00:00:00+00:00", ""),
        ("2026-01-01T00:00:00+00:00", "row\x00"),
        ("2026-01-01T00:00:00+00:00\x00", "row"),
        ("yesterday", "row"),
    ],
    ids=["utc_after_9999", "utc_before_1", "naive", "no_id", "nul_in_id", "nul_in_time", "words"],
)
def test_a_time_cursor_that_no_store_can_compare_is_invalid(created: str, row_id: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_time_and_id(encode_cursor(created, row_id))
    assert refused.value.code == "invalid_cursor"
