"""Machine learning over HTTP against the real MLflow server: a training job in the
background, the owner's registry, predictions, a model-signal backtest and its lineage."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.db.models import Role
from cift.model import DataKind, Timeframe
from tests.api.conftest import AppFactory, auth_headers
from tests.features.reference import random_bars

SPLIT = datetime(2020, 1, 2, 12, tzinfo=UTC)


@pytest.fixture
def app(make_app: AppFactory, mlflow_uri: str) -> FastAPI:
    app = make_app(mlflow_tracking_uri=mlflow_uri)
    bars = pl.concat([random_bars(3_500, seed=i, symbol=s) for i, s in enumerate(("AAA", "BBB"))])
    app.state.cift.store.write(DataKind.BARS, bars, timeframe=Timeframe.parse("1m"))
    return app


def done(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(url, headers=headers).json()
        if found["status"] in {"succeeded", "failed", "cancelled"}:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {found}")


def test_train_register_predict_backtest_and_trace_it(app: FastAPI) -> None:
    name = f"api-{uuid.uuid4().hex[:10]}"
    alice = auth_headers(app, "alice", Role.TRADER)
    bob = auth_headers(app, "bob", Role.TRADER)
    with TestClient(app, raise_server_exceptions=False) as client:
        config = client.post(
            "/api/v1/models",
            headers=alice,
            json={
                "name": name,
                "model_type": "logistic_regression",
                "features": ["rsi(14)", "roc(10)"],
                "label": {"kind": "forward_return", "horizon": 15},
                "timeframe": "1m",
            },
        ).json()
        request = {
            "kind": "train",
            "configuration_id": config["id"],
            "symbols": ["AAA", "BBB"],
            "end": SPLIT.isoformat(),
            "plan": {"folds": 3, "importance_repeats": 0},
        }
        assert client.post("/api/v1/ml/jobs", headers=bob, json=request).status_code == 404
        submitted = client.post("/api/v1/ml/jobs", headers=alice, json=request)
        assert submitted.status_code == 202, submitted.text
        finished = done(client, submitted.headers["location"], alice)
        assert finished["status"] == "succeeded", finished
        assert finished["result"]["model_version"] == 1
        assert client.get(submitted.headers["location"], headers=bob).status_code == 404

        mine = client.get("/api/v1/ml/models", headers=alice).json()
        assert [m["name"] for m in mine] == [name]
        assert name not in [m["name"] for m in client.get("/api/v1/ml/models", headers=bob).json()]
        assert client.get(f"/api/v1/ml/models/{name}", headers=bob).status_code == 404
        promoted = client.post(
            f"/api/v1/ml/models/{name}/promote", headers=alice, json={"version": 1}
        )
        assert promoted.json()[0]["aliases"] == ["challenger", "champion"]
        weights = f"/api/v1/ml/models/{name}/versions/1/importance"
        importance = client.get(weights, headers=alice).json()
        assert sorted(row["feature"] for row in importance) == ["roc", "rsi"]
        assert all(row["gain"] >= 0 and row["permutation"] is None for row in importance)
        assert client.get(weights, headers=bob).status_code == 404
        assert client.get(weights.replace("/1/", "/9/"), headers=alice).status_code == 404

        scores = client.post(
            "/api/v1/ml/predict",
            headers=alice,
            json={"model": name, "symbols": ["AAA"], "start": SPLIT.isoformat()},
        ).json()
        values = [row["score"] for row in scores["scores"] if row["score"] is not None]
        assert len(values) > 1_000
        assert all(0 < v < 1 for v in values)

        run = client.post(
            "/api/v1/backtests",
            headers=alice,
            json={
                "strategy": "model_signal",
                "params": {"model": name},
                "symbols": ["AAA", "BBB"],
                "timeframe": "1m",
                "start": SPLIT.isoformat(),
            },
        ).json()
        backtest = done(client, f"/api/v1/backtests/{run['id']}", alice)
        assert backtest["status"] == "succeeded", backtest
        record = client.get(f"/api/v1/lineage/{run['id']}", headers=alice).json()
        assert [n["kind"] for n in record["upstream"]][:2] == ["model_version", "training_run"]
        assert record["upstream"][-1]["id"] == finished["result"]["data_hash"]
        assert client.get(f"/api/v1/lineage/{run['id']}", headers=bob).status_code == 404
        by_model = client.get(f"/api/v1/lineage/{name}@champion", headers=alice).json()
        assert [n["id"] for n in by_model["downstream"]] == [run["id"]]
