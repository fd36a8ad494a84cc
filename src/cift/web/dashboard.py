"""The dashboard at ``/``: the single-page app built from ``web/`` (``make web``) into
``cift/web/dist``, its hashed assets cached for a year, every client-side route answered
with the app's page. Without a build, ``/`` says how to make one; the API works either way.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

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


CLIENT_PATH = re.compile(
    "/(?!(?:" + "|".join(re.escape(p) for p in SERVER_PATHS) + ")(?:/|$))[^/]*(?:/.*)?"
)
"""A path of the app's own (``/backtests/<id>``): anything outside the server's paths."""


class HashedAssets(StaticFiles):
    """The build's assets: their names change with their content, so they never go stale."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def install(app: FastAPI) -> None:
    """Serve the build in ``DIST`` (or the how-to-build page) at ``/``: for a GET that no
    route answers, so every route of the server, even one added later, comes first."""
    dist = DIST if (DIST / "index.html").is_file() else None
    if dist is not None and (dist / "assets").is_dir():
        app.mount("/assets", HashedAssets(directory=dist / "assets"), name="assets")
    unmatched = app.router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        reading = scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
        if reading and CLIENT_PATH.fullmatch(path):
            await _page(dist, path.lstrip("/"))(scope, receive, send)
            return
        await unmatched(scope, receive, send)

    app.router.default = default


def _page(dist: Path | None, path: str) -> Response:
    """A file at the top of the build (the icon), or the app's page for its own routes."""
    if dist is None:
        return HTMLResponse(NOT_BUILT.format(version=__version__))
    if path and "/" not in path and (dist / path).is_file():
        return FileResponse(dist / path)
    return FileResponse(dist / "index.html", headers={"Cache-Control": "no-cache"})
