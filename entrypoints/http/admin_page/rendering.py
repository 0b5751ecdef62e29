"""Templates shipped in this package, rendered with autoescaping, and the answers
that carry the page's security headers."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import MediaType, Response

from domain.credits import credits_as_usd
from domain.money import format_minor
from entrypoints.http.admin_page.security import HEADERS

_ENV = Environment(
    loader=PackageLoader("entrypoints.http.admin_page", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["usd"] = credits_as_usd
_ENV.filters["minor"] = lambda amount: format_minor(amount, 2)


def page(template: str, status: int = 200, **context: Any) -> Response[str]:
    html = _ENV.get_template(template).render(**context)
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=HEADERS)
