"""The one error mapping: outages are 503, refused values 400, headers are kept."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from entrypoints.http.errors import error_response_for


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _driver(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, _DriverError(sqlstate))


def test_a_value_the_database_refuses_is_a_400_not_an_outage() -> None:
    for sqlstate in ("22021", "22P05", "22003"):  # NUL in text, untranslatable, out of range
        response = error_response_for(_driver(sqlstate), "/x")
        assert response.status_code == 400
        assert response.content["error"]["code"] == "validation_error"


def test_a_lost_connection_is_still_an_outage() -> None:
    for sqlstate in ("08006", "57P01"):
        response = error_response_for(_driver(sqlstate), "/x")
        assert response.status_code == 503
        assert response.content["error"]["code"] == "database_unavailable"
