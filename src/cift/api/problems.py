"""Turn every error into an RFC 9457 problem response; never leak a stack trace."""

from __future__ import annotations

import math
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cift.core.errors import CiftError, RateLimitedError
from cift.core.ids import new_request_id

from .schemas.problem import PROBLEM_MEDIA_TYPE, FieldProblem, Problem

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation",
}
INTERNAL_DETAIL = (
    "An unexpected error occurred; it has been logged. Quote the request id when reporting it."
)


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    request_id: str,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response carrying the request id in body and header."""
    body = Problem(
        type=f"urn:cift:error:{code}",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        request_id=request_id,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"X-Request-ID": request_id, **(headers or {})},
    )


def request_id_of(request: Request) -> str:
    """The id the request-context middleware gave this request."""
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else new_request_id()


async def _cift_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CiftError)
    headers = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return problem_response(
        status=exc.http_status,
        code=exc.code,
        title=exc.title,
        detail=exc.message,
        instance=request.url.path,
        request_id=request_id_of(request),
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_problem(error) for error in exc.errors()]
    where = ", ".join(".".join(str(p) for p in e.loc) for e in errors[:5])
    return problem_response(
        status=422,
        code="validation",
        title="Invalid request",
        detail=f"The request has {len(errors)} invalid field(s): {where}.",
        instance=request.url.path,
        request_id=request_id_of(request),
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if status == 404 and exc.detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
        detail = f"{request.method} is not allowed on {request.url.path}; use {headers['Allow']}."
    elif status != 404 or exc.detail != "Not Found":
        detail = str(exc.detail)
    return problem_response(
        status=status,
        code=_HTTP_CODES.get(status, "http_error"),
        title=phrase,
        detail=detail,
        instance=request.url.path,
        request_id=request_id_of(request),
        headers=headers,
    )


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document lists for this path: what ``Allow`` must say
    (the router's own header names only the first route it tried)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in HTTP_METHODS}
    return sorted(methods)


def _field_problem(error: Any) -> FieldProblem:
    loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
    return FieldProblem(loc=loc, msg=str(error.get("msg", "")), type=str(error.get("type", "")))


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that render errors as problem+json."""
    app.add_exception_handler(CiftError, _cift_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, description in (
        (422, "The request is invalid: see `errors` for each field."),
        (500, "Unexpected failure; the trace is in the server log under the request id."),
    )
}
"""Responses every route may give, documented in OpenAPI with the Problem schema."""
