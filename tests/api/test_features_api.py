"""Features over HTTP: the catalog, stored sets and paged values."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.data.providers.files import load
from cift.features.pipeline import compute_and_store, default_set
from cift.model import DataKind, Timeframe
from tests.api.conftest import auth_headers

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_catalog_lists_features_with_parameters(client: TestClient) -> None:
    features = client.get("/api/v1/features").json()
    macd = next(f for f in features if f["name"] == "macd")
    assert macd["outputs"] == ["macd", "macd_signal", "macd_hist"]
    assert [p["default"] for p in macd["params"]] == [12, 26, 9]
    technical = client.get("/api/v1/features", params={"category": "technical"}).json()
    assert {f["category"] for f in technical} == {"technical"}


def test_stored_values_page_through(app: FastAPI) -> None:
    store = app.state.cift.store
    nvda = load(DATA / "daily/nvda-1999-2014.csv")
    store.write(DataKind.BARS, nvda.frame, timeframe=nvda.timeframe)
    feature_set = default_set(Timeframe.parse("1d"))
    compute_and_store(store, feature_set)
    client = TestClient(app, headers=auth_headers(app))
    sets = client.get("/api/v1/features/sets").json()
    assert sets[0]["set_id"] == feature_set.set_id
    assert sets[0]["rows"] == 4012
    rows, cursor = [], None
    while True:
        params = {"symbol": "NVDA", "limit": 1500, **({"cursor": cursor} if cursor else {})}
        body = client.get(
            f"/api/v1/features/sets/{feature_set.set_id}/values", params=params
        ).json()
        rows += body["rows"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(rows) == 4012
    assert set(rows[0]) == {"symbol", "ts", *feature_set.columns}
    missing = client.get("/api/v1/features/sets/nope-1/values", params={"symbol": "NVDA"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
