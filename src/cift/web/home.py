"""The page at ``/``: where to go from here (the API's documentation, its health and
metrics), so a browser pointed at the server never meets a bare 404."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from cift import __version__

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CIFT Markets</title></head>
<body>
<h1>CIFT Markets <small>{version}</small></h1>
<p>This server speaks the CIFT HTTP API under <code>/api/v1</code>.</p>
<ul>
<li><a href="/docs">Interactive API documentation</a> (Swagger UI), or
<a href="/redoc">the same as a reference</a> (ReDoc)</li>
<li><a href="/openapi.json">The OpenAPI document</a></li>
<li><a href="/health/ready">Readiness</a> of its database, cache and store</li>
</ul>
<p>Sign in with <code>POST /api/v1/auth/login</code> or send an API key
(<code>cift keys create</code>) in <code>X-API-Key</code>.</p>
</body></html>
"""


@router.get("/", include_in_schema=False)
def home() -> HTMLResponse:
    """Links to the documentation and the health check."""
    return HTMLResponse(PAGE.format(version=__version__))
