"""Every error comes back as problem+json with the request id and no stack trace."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from cift.core.errors import ConflictError, RateLimitedError

PROBLEM = "application/problem+json"


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """The real app plus routes that fail in each way a real route can."""

    @app.get("/test/items/{item_id}")
    def item(item_id: int, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, int]:
        return {"item_id": item_id, "limit": limit}

    @app.get("/test/conflict")
    def conflict() -> None:
        raise ConflictError("A backtest named 'x' already exists; choose another name.")

    @app.get("/test/limited")
    def limited() -> None:
        raise RateLimitedError("Slow down.", retry_after=2.2)

    @app.get("/test/crash")
    def crash() -> None:
        raise RuntimeError("secret internal state: password=hunter2")

    return TestClient(app, raise_server_exceptions=False)


def _assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:cift:error:{code}"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    assert "Traceback" not in response.text
    return body


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = _assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert "GET /api/v1/no-such-thing" in body["detail"]


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    _assert_problem(client.delete("/health/live"), 405, "method_not_allowed")


def test_invalid_parameters_are_a_422_problem_listing_each_field(client: TestClient) -> None:
    body = _assert_problem(client.get("/test/items/abc?limit=0"), 422, "validation")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert locations == {("path", "item_id"), ("query", "limit")}
    assert "2 invalid field(s)" in body["detail"]


def test_raised_cift_error_keeps_its_status_code_and_message(client: TestClient) -> None:
    body = _assert_problem(client.get("/test/conflict"), 409, "conflict")
    assert body["detail"] == "A backtest named 'x' already exists; choose another name."


def test_rate_limit_problem_says_when_to_retry(client: TestClient) -> None:
    response = client.get("/test/limited")
    _assert_problem(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "3"


def test_unexpected_exception_is_a_500_problem_without_internals(client: TestClient) -> None:
    response = client.get("/test/crash", headers={"X-Request-ID": "crash-1"})
    body = _assert_problem(response, 500, "internal")
    assert body["request_id"] == "crash-1"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_valid_request_passes(client: TestClient) -> None:
    assert client.get("/test/items/7?limit=5").json() == {"item_id": 7, "limit": 5}
