"""Response hardening and request size limits.

Security headers go on every answer, errors included: no MIME sniffing, no framing, no
referrer, no caching of API answers, HSTS when the request came over TLS, and a content
security policy fitted to what is served (JSON, the API docs, a report, the dashboard).
Bodies larger than ``CIFT_MAX_BODY_BYTES`` are refused with 413 before they are read,
and requests carrying a NUL character (which no PostgreSQL text or JSON value can hold)
with 422, whatever route they are for.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..problems import problem_response, request_id_of
from .base import HttpMiddleware
from .ratelimit import STATE_KEY, tightest

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""HTML pages of the dashboard: only this origin's own scripts, styles and endpoints."""
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""A self-contained tearsheet: its inline charts run, but it can load or send nothing."""
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Swagger UI and ReDoc: their scripts and styles from this origin only (no CDN), the
inline start-up script each page carries, and ReDoc's search worker."""
DOCS_ASSETS = "/docs-assets"
DOCS_PATHS = ("/docs", "/redoc", DOCS_ASSETS)
WWW_AUTHENTICATE = 'Bearer realm="cift", charset="UTF-8"'
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON ``\\u0000`` escape (an odd run of backslashes before ``u0000``)."""
NUL_DETAIL = (
    "The request contains a NUL character (\\u0000 or %00), which no stored text may "
    "hold; remove it."
)


def content_security_policy(path: str, content_type: str) -> str:
    if path.startswith(DOCS_PATHS):
        return DOCS_CSP
    if "text/html" not in content_type:
        return API_CSP
    if path.startswith("/api/v1/backtests/") and path.endswith("/report"):
        return REPORT_CSP
    return DASHBOARD_CSP


class SecurityHeadersMiddleware(HttpMiddleware):
    """Add the security and rate-limit headers to every response start."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Content-Security-Policy",
                    content_security_policy(path, headers.get("content-type", "")),
                )
                if path.startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if message["status"] == 401:
                    headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
                decision = tightest(scope.get("state", {}).get(STATE_KEY, []))
                if decision is not None:
                    for name, value in decision.headers().items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_hardened)


class BodySizeLimitMiddleware(HttpMiddleware):
    """Refuse bodies over the limit: at once by Content-Length, else while they stream."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            too_large = (413, "payload_too_large", "Content Too Large", self._detail())
            await _refuse(scope, receive, send, *too_large)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return (
            f"The request body is larger than {self.max_bytes} bytes (CIFT_MAX_BODY_BYTES); "
            "send less, or page through the data."
        )


class NulCharacterMiddleware(HttpMiddleware):
    """Refuse NUL characters in the path, the query or a JSON body with one 422 problem.

    Checked at the edge so that no route can pass one on to PostgreSQL (which rejects
    them with an error that would otherwise surface as a 500).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _refuse(scope, receive, send, 422, "validation", "Invalid input", NUL_DETAIL)
            return
        body = bytearray()

        async def checked() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))  # bounded by the body size limit
                if not message.get("more_body", False) and JSON_NUL.search(body):
                    raise HTTPException(422, NUL_DETAIL)
            return message

        await self.app(scope, checked, send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, title: str, detail: str
) -> None:
    """Answer a request with a problem before any route sees it."""
    response = problem_response(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=scope.get("path", "").replace("\x00", ""),
        request_id=request_id_of(Request(scope)),
    )
    await response(scope, receive, send)
