"""The operators' web page at /admin: server-rendered, no script, no CDN."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from litestar import Response, get

from entrypoints.http.admin_page.actions import AdminActionsController
from entrypoints.http.admin_page.views import AdminPageController

STYLESHEET = "/admin/static/admin.css"


@cache
def _css() -> bytes:
    return (files(__name__) / "static" / "admin.css").read_bytes()


@get(STYLESHEET, include_in_schema=False, sync_to_thread=False)
def admin_css() -> Response[bytes]:
    return Response(
        _css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def admin_page_handlers() -> list[Any]:
    return [AdminPageController, AdminActionsController, admin_css]
