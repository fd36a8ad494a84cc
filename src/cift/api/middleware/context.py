"""Request context: an id per request, one log line, metrics, and a last-resort 500.

A pure ASGI middleware (no body buffering), outermost among the app's own middleware,
so every answer, including errors from inner middleware, is logged and counted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from loguru import logger
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request

from cift.core.ids import accept_request_id

from .. import metrics
from ..metrics import UNMATCHED_ROUTE
from ..problems import INTERNAL_DETAIL, problem_response
from .base import HttpMiddleware

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware(HttpMiddleware):
    """Tag each request with an id, log and time it, and turn a crash into a 500 problem."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        begin = time.perf_counter()
        metrics.IN_PROGRESS.inc()
        with logger.contextualize(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                logger.exception("unhandled error while answering the request")
                if started:
                    raise
                status = 500
                response = problem_response(
                    status=500,
                    code="internal",
                    title="Internal error",
                    detail=INTERNAL_DETAIL,
                    instance=scope.get("path", ""),
                    request_id=request_id,
                )
                await response(scope, receive, send)
            finally:
                metrics.IN_PROGRESS.dec()
                self._record(scope, status, time.perf_counter() - begin)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or UNMATCHED_ROUTE  # {ref}, not {ref:path}
        method = scope.get("method", "")
        metrics.observe(method, template, status, seconds)
        client = Request(scope).client
        logger.bind(
            method=method,
            route=template,
            path=scope.get("path", ""),
            status=status,
            duration_ms=round(seconds * 1000, 3),
            client=client.host if client else None,
        ).log("ERROR" if status >= 500 else "INFO", "{} {} {}", method, template, status)
