"""Redirect URLs that ``urlsplit`` cannot take apart are refused like any other bad one."""

from __future__ import annotations

import pytest

from domain.errors import RedirectNotAllowed
from domain.redirects import RedirectPolicy

POLICY = RedirectPolicy("http://localhost:3000")

UNPARSABLE = [
    "http://localhost:3000.evil.com/",
    "http://localhost:99999/",
    "http://localhost:-1/",
    "http://localhost:3000:3000/",
    "http://localhost:\uff13\uff10\uff10\uff10/"  # fullwidth digits,
    "http://[::1/",
    "http://[::1]x/",
    "http://[not-an-ip]/",
    "http://user@[::1/",
]


@pytest.mark.parametrize("url", UNPARSABLE)
def test_a_bad_port_or_ipv6_literal_is_refused(url: str) -> None:
    with pytest.raises(RedirectNotAllowed):
        POLICY.resolve(url, "/")


def test_an_ipv6_frontend_accepts_its_own_origin_only() -> None:
    policy = RedirectPolicy("http://[::1]:3000")
    assert policy.resolve("http://[::1]:3000/done", "/") == "http://[::1]:3000/done"
    with pytest.raises(RedirectNotAllowed):
        policy.resolve("http://[::2]:3000/done", "/")
