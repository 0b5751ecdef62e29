"""Hostile input over HTTP is refused with a 400 and the API's error body, never a 5xx.

Redirect URLs that ``urlsplit`` cannot take apart, cursors that decode but do not fit
(a superscript digit, an id past int64, a time whose UTC form leaves the calendar, a
NUL byte) and coupon dates whose UTC form leaves the calendar: each reached a 500 or
a 503 before, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import httpx
import pytest

from adapters.pagination import encode_cursor
from tests.e2e.conftest import ADMIN, Api

# ---- redirect URLs ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
@pytest.mark.parametrize(
    "url",
    ["http://localhost:3000.evil.com/", "http://localhost:99999/", "http://[::1/"],
    ids=["port_with_a_host", "port_out_of_range", "open_ipv6_literal"],
)
async def test_a_redirect_url_with_a_bad_port_or_ipv6_literal_is_refused(
    api: Api, field: str, url: str
) -> None:
    user = await api.create_user()
    response = await api.http.post(
        "/api/stripe/checkout-session",
        json={"amount": 1000, "currency": "usd", field: url},
        headers=user.headers,
    )
    assert_error(response, 400, "redirect_not_allowed")


# ---- cursors ------------------------------------------------------------------------------

INT64_MAX = 2**63 - 1
BAD_ID_CURSORS = {
    "superscript_digit": encode_cursor("²"),
    "arabic_indic_digit": encode_cursor("٣"),
    "past_int64": encode_cursor(str(INT64_MAX + 1)),
    "far_past_int64": encode_cursor("9" * 100),
}
BAD_TIME_CURSORS = {
    "utc_before_year_1": encode_cursor("0001-01-01T00:00:00+23:59", "row"),
    "utc_after_year_9999": encode_cursor("9999-12-31T23:59:59-23:59", "row"),
    "nul_in_id": encode_cursor("2026-01-01T00:00:00+00:00", "row\x00"),
}
TIME_PAGED = ["/api/stripe/payments", "/api/coupons/history", "/api/admin/coupons"]


@pytest.mark.parametrize("cursor", BAD_ID_CURSORS.values(), ids=BAD_ID_CURSORS.keys())
async def test_a_bad_ledger_cursor_is_400(any_api: Api, cursor: str) -> None:
    user = await any_api.create_user()
    response = await any_api.http.get(
        "/user/credit-transactions", params={"cursor": cursor}, headers=user.headers
    )
    assert_error(response, 400, "invalid_cursor")


@pytest.mark.parametrize("path", TIME_PAGED)
@pytest.mark.parametrize("cursor", BAD_TIME_CURSORS.values(), ids=BAD_TIME_CURSORS.keys())
async def test_a_bad_time_cursor_is_400(any_api: Api, path: str, cursor: str) -> None:
    user = await any_api.create_user()
    headers = ADMIN if path.startswith("/api/admin/") else user.headers
    response = await any_api.http.get(path, params={"cursor": cursor}, headers=headers)
    assert_error(response, 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", BAD_TIME_CURSORS.values(), ids=BAD_TIME_CURSORS.keys())
async def test_a_bad_cursor_on_a_coupons_redemptions_is_400(any_api: Api, cursor: str) -> None:
    created = await any_api.http.post(
        "/api/admin/coupons", json={"code": "PAGED", "credits": 5}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    response = await any_api.http.get(
        "/api/admin/coupons/PAGED", params={"cursor": cursor}, headers=ADMIN
    )
    assert_error(response, 400, "invalid_cursor")


# ---- coupon dates -------------------------------------------------------------------------

OFF_THE_CALENDAR_IN_UTC = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
@pytest.mark.parametrize("when", OFF_THE_CALENDAR_IN_UTC, ids=["after_9999", "before_1"])
async def test_a_coupon_date_off_the_calendar_in_utc_is_400(
    any_api: Api, field: str, when: str
) -> None:
    created = await any_api.http.post(
        "/api/admin/coupons", json={"code": "DATED", "credits": 5, field: when}, headers=ADMIN
    )
    assert_error(created, 400, "validation_error")

    made = await any_api.http.post(
        "/api/admin/coupons", json={"code": "LATER", "credits": 5}, headers=ADMIN
    )
    assert made.status_code == 201, made.text
    changed = await any_api.http.patch(
        "/api/admin/coupons/LATER", json={field: when}, headers=ADMIN
    )
    assert_error(changed, 400, "validation_error")


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The one error shape: ``{"error": {"code", "message"}}``, nothing else."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
