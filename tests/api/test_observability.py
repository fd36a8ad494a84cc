"""Request ids, request logs and Prometheus metrics by route template."""

from __future__ import annotations

import io
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cift.core.logging import configure_logging
from tests.api.conftest import AppFactory, auth_headers


def _samples(client: TestClient) -> list[tuple[str, dict[str, str], float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert (
        client.get("/health/live", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"]
        == "abc-1"
    )
    generated = client.get("/health/live", headers={"X-Request-ID": "bad id\n"}).headers[
        "x-request-id"
    ]
    assert generated != "bad id\n"
    assert len(generated) == 32


def test_json_request_log_carries_id_method_route_status_duration(make_app: AppFactory) -> None:
    app = make_app(log_format="json")

    @app.get("/test/orders/{order_id}")
    def order(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    buffer = io.StringIO()
    configure_logging(app.state.cift.settings, sink=buffer)
    with TestClient(app) as client:
        client.get("/test/orders/o-42", headers={"X-Request-ID": "req-77"})
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    request_logs = [r for r in records if r.get("request_id") == "req-77"]
    assert len(request_logs) == 1
    log = request_logs[0]
    assert log["method"] == "GET"
    assert log["route"] == "/test/orders/{order_id}"
    assert log["path"] == "/test/orders/o-42"
    assert log["status"] == 200
    assert log["duration_ms"] >= 0


def _request_counts(client: TestClient) -> dict[tuple[str, str], float]:
    return {
        (labels["route"], labels["status"]): value
        for name, labels, value in _samples(client)
        if name == "cift_api_requests_total"
    }


def test_metrics_label_requests_by_route_template(app: FastAPI) -> None:
    @app.get("/test/counted/{order_id}")
    def order(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    client = TestClient(app, headers=auth_headers(app))
    before = _request_counts(client)  # the registry is the process's: count what is new
    for order_id in ("a", "b", "c"):
        client.get(f"/test/counted/{order_id}")
    client.get("/api/v1/system")
    client.get("/api/v1/unknown/123")
    samples = _samples(client)
    after = _request_counts(client)

    def new(route: str, status: str) -> float:
        return after.get((route, status), 0) - before.get((route, status), 0)

    assert new("/test/counted/{order_id}", "200") == 3
    assert new("/api/v1/system", "200") == 1
    assert new("<unmatched>", "404") == 1
    routes = {labels.get("route") for _, labels, _ in samples}
    assert not any(
        route and route.startswith("/test/counted/") and "{" not in route for route in routes
    )
    buckets = [
        labels
        for name, labels, _ in samples
        if name == "cift_api_request_duration_seconds_bucket"
        and labels["route"] == "/test/counted/{order_id}"
    ]
    assert {b["le"] for b in buckets} >= {"0.005", "0.1", "+Inf"}
    assert any(name == "cift_api_build_info" for name, _, _ in samples)


def test_every_route_in_openapi_is_labelled_by_its_template(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    for path in paths:
        client.get(path)
    labelled = {
        labels["route"] for name, labels, _ in _samples(client) if name == "cift_api_requests_total"
    }
    assert paths <= labelled
