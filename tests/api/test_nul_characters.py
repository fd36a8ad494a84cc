"""A NUL character anywhere a user can put one (JSON body, query, path) is a 422 problem
on every route, before PostgreSQL, which cannot store it, would fail with a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.db.models import Role
from tests.api.conftest import auth_headers

MODEL: dict[str, Any] = {
    "name": "m",
    "model_type": "lightgbm_classifier",
    "features": ["rsi(14)"],
    "label": {"kind": "forward_return", "horizon": 5},
}
BACKTEST: dict[str, Any] = {"strategy": "sma_cross", "symbols": ["NVDA"]}


@pytest.fixture
def client(backend_app: FastAPI) -> Iterator[TestClient]:
    headers = auth_headers(backend_app, "alice", Role.TRADER)
    with TestClient(backend_app, raise_server_exceptions=False, headers=headers) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/models", {**MODEL, "hyperparameters": {"objective": "x\u0000"}}),
        ("/api/v1/backtests", {**BACKTEST, "symbols": ["NV\u0000DA"]}),
        ("/api/v1/backtests", {**BACKTEST, "config": {"fee\u0000": 1}}),
        ("/api/v1/backtests", {**BACKTEST, "params": {"fast": 10}, "name": "\u0000"}),
    ],
)
def test_nul_in_a_json_body_is_refused(client: TestClient, path: str, body: Any) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "validation"
    assert "NUL" in answer.json()["detail"]
    assert client.get(path).json() == []  # nothing was stored


@pytest.mark.parametrize(
    "url", ["/api/v1/backtests?strategy=sma%00cross", "/api/v1/models?name=%00"]
)
def test_nul_in_the_query_is_refused(client: TestClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.json()["detail"]


def test_an_escaped_backslash_before_u0000_is_plain_text(client: TestClient) -> None:
    text = "C:\\u0000 is a path, not a NUL"  # JSON: "C:\\\\u0000 ..."
    answer = client.post("/api/v1/models", json={**MODEL, "description": text})
    assert answer.status_code == 201, answer.text
    assert answer.json()["description"] == text
    odd = client.post(
        "/api/v1/models",
        content=b'{"name": "m", "model_type": "lightgbm_classifier", "features": ["rsi(14)"],'
        b' "label": {"kind": "forward_return", "horizon": 5}, "description": "a\\\\\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert odd.status_code == 422, odd.text  # an escaped backslash, then a real \u0000
