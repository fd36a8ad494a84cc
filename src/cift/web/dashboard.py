"""The dashboard at ``/``: the single-page app built from ``web/`` (``make web``) into
``cift/web/dist``, its hashed assets cached for a year, every client-side route answered
with the app's page. Without a build, ``/`` says how to make one; the API works either way.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from cift import __version__

DIST = Path(__file__).resolve().parent / "dist"
SERVER_PATHS = (
    *("api", "health", "metrics", "assets"),
    *("docs", "docs-assets", "redoc", "openapi.json"),
)
"""Where the server answers itself: an unknown path there stays a 404 (or 405), never the app."""
IMMUTABLE = "public, max-age=31536000, immutable"

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CIFT Markets</title></head>
<body>
<h1>CIFT Markets <small>{version}</small></h1>
<p>The dashboard is not built on this server. Build it from a checkout with
<code>make web</code> (Node.js 20 and npm), then restart <code>cift serve</code>;
<code>make serve</code> does both.</p>
<p>The HTTP API works without it:</p>
<ul>
<li><a href="/docs">Interactive API documentation</a> (Swagger UI), or
<a href="/redoc">the same as a reference</a> (ReDoc)</li>
<li><a href="/openapi.json">The OpenAPI document</a></li>
<li><a href="/health/ready">Readiness</a> of its database, cache and store</li>
</ul>
</body></html>
"""


class ClientPath(Convertor[str]):
    """A path of the app's own (``/backtests/<id>``): anything outside the server's paths."""

    regex = "(?!(?:" + "|".join(p.replace(".", r"\.") for p in SERVER_PATHS) + ")(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("client", ClientPath())


class HashedAssets(StaticFiles):
    """The build's assets: their names change with their content, so they never go stale."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def install(app: FastAPI) -> None:
    """Serve the build in ``DIST`` (or the how-to-build page) at ``/``."""
    dist = DIST
    built = (dist / "index.html").is_file()
    if built and (dist / "assets").is_dir():
        app.mount("/assets", HashedAssets(directory=dist / "assets"), name="assets")
    app.include_router(_pages(dist if built else None))


def _pages(dist: Path | None) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/{path:client}")
    def client_route(path: str) -> Response:
        """A file at the top of the build (the icon), or the app for its own routes."""
        if dist is not None and "/" not in path and (dist / path).is_file():
            return FileResponse(dist / path)
        return _app_page(dist)

    return router


def _app_page(dist: Path | None) -> Response:
    if dist is None:
        return HTMLResponse(NOT_BUILT.format(version=__version__))
    return FileResponse(dist / "index.html", headers={"Cache-Control": "no-cache"})
