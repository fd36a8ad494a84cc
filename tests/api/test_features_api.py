"""Features over HTTP: the catalog, stored sets and paged values."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.data.files import load
from cift.features.pipeline import compute_and_store, default_set
from cift.model import DataKind, Timeframe
from tests.api.conftest import auth_headers
from tests.samples import DATA


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


def test_features_computed_on_stored_bars_equal_talib_on_any_page(app: FastAPI) -> None:
    nvda = load(DATA / "daily/nvda-1999-2014.csv")
    app.state.cift.store.write(DataKind.BARS, nvda.frame, timeframe=nvda.timeframe)
    client = TestClient(app, headers=auth_headers(app))
    query = {"symbol": "NVDA", "timeframe": "1d", "features": "sma(20),rsi(14)"}
    query["start"] = "2005-01-01"
    rows, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/features/compute", params={**query, "limit": 700, "cursor": cursor or ""}
        ).json()
        rows += page["rows"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    bars = nvda.frame.filter(nvda.frame["ts"].dt.year() >= 2005)
    close = bars["close"].to_numpy().astype(float)
    assert [r["ts"][:10] for r in rows] == bars["ts"].dt.strftime("%Y-%m-%d").to_list()
    got = np.array([np.nan if r["rsi"] is None else r["rsi"] for r in rows])
    np.testing.assert_allclose(got, talib.RSI(close, 14), rtol=1e-9, equal_nan=True)
    got = np.array([np.nan if r["sma"] is None else r["sma"] for r in rows])
    np.testing.assert_allclose(got, talib.SMA(close, 20), rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize(
    ("features", "said"), [("smax(3)", "Unknown feature"), ("sma(0)", "timeperiod")]
)
def test_a_bad_feature_call_is_a_problem(client: TestClient, features: str, said: str) -> None:
    response = client.get(
        "/api/v1/features/compute", params={"symbol": "NVDA", "features": features}
    )
    assert response.status_code == 422
    assert said in response.json()["detail"]
