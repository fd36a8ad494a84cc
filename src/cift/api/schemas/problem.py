"""RFC 9457 problem details: the body of every error response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int] = Field(description="Where: e.g. ['query', 'limit'].")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="Machine-readable error type.")


class Problem(BaseModel):
    """An error, as ``application/problem+json`` (RFC 9457)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "urn:cift:error:not_found",
                "title": "Not found",
                "status": 404,
                "detail": "No route matches GET /api/v1/nope.",
                "instance": "/api/v1/nope",
                "code": "not_found",
                "request_id": "5f0c2b7e9d3a4c1e8b6f0a2d4c6e8f10",
            }
        }
    )

    type: str = Field(description="URI naming the kind of problem: urn:cift:error:<code>.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(description="What went wrong here and what to do about it.")
    instance: str = Field(description="The request path.")
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str = Field(description="Quote this id when reporting the problem.")
    errors: list[FieldProblem] | None = Field(
        None, description="Per-field problems of an invalid request."
    )
