"""The API docs' Swagger UI, served by the app itself: no CDN, so /docs works offline.

The script and styles come from the ``swagger-ui-py`` package's copy of Swagger UI's
dist files (5.x, which renders OpenAPI 3.1); only the three files the page loads are
served, each read once and cached by the browser for a day.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from litestar import Response, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath

from domain.errors import NotFound

PREFIX = "/docs/assets"
_TYPES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
}


@cache
def _read(name: str) -> bytes:
    return (files("swagger_ui") / "static" / name).read_bytes()


@get(f"{PREFIX}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    media_type = _TYPES.get(name)
    if media_type is None:
        raise NotFound("no such asset")
    return Response(
        _read(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def local_swagger() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{PREFIX}/swagger-ui-bundle.js",
        css_url=f"{PREFIX}/swagger-ui.css",
        standalone_preset_js_url=f"{PREFIX}/swagger-ui-standalone-preset.js",
        # Litestar's default icon is fetched from a CDN; an empty data URL fetches nothing.
        favicon="<link rel='icon' href='data:,'>",
    )
