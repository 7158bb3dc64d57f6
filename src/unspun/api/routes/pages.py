"""The checking page at ``/``, the API docs page at ``/docs`` and their assets, served from the
package (no CDN)."""

from __future__ import annotations

import importlib.resources

from fastapi import APIRouter
from fastapi.responses import Response

from unspun.api.dependencies import State
from unspun.api.errors import error_response

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


def load_static() -> dict[str, tuple[bytes, str]]:
    """The page and its assets, read once: requests choose among these names and never build a
    path, so no request can reach any other file."""
    assets: dict[str, tuple[bytes, str]] = {}
    folder = importlib.resources.files("unspun.api") / "static"
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in STATIC_TYPES:
            assets[entry.name] = (entry.read_bytes(), STATIC_TYPES[suffix])
    return assets


def _asset(static: dict[str, tuple[bytes, str]], name: str) -> Response:
    content, media_type = static[name]
    return Response(content, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get("/")
async def page(state: State) -> Response:
    return _asset(state.static, "index.html")


@router.get("/docs")
async def docs(state: State) -> Response:
    return _asset(state.static, "docs.html")


@router.get("/static/{name}")
async def asset(name: str, state: State) -> Response:
    if name not in state.static:
        return error_response(404, "not_found", "no such file")
    return _asset(state.static, name)
