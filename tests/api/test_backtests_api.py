"""Backtests over HTTP: a background job with status and progress, its report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.backtest import runs
from cift.backtest.spec import RunSpec
from cift.data.files import load
from cift.db.models import Backtest, JobStatus
from cift.db.repositories.backtests import backtest_records
from cift.model import DataKind
from cift.strategy.registry import STRATEGIES
from tests.api.conftest import auth_headers
from tests.samples import NVDA

BODY = {
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 50},
    "symbols": ["NVDA"],
    "timeframe": "1d",
    "config": {"commission": {"model": "bps", "bps": 10}},
}


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    nvda = load(NVDA)
    app.state.cift.store.write(DataKind.BARS, nvda.frame, timeframe=nvda.timeframe)
    return TestClient(app, headers=auth_headers(app))


def wait_until_done(client: TestClient, url: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, object] = client.get(url).json()
        if run["status"] in {"succeeded", "failed"}:
            return run
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish: {run}")


def test_a_submitted_backtest_runs_in_the_background(client: TestClient, app: FastAPI) -> None:
    with client:
        response = client.post("/api/v1/backtests", json=BODY)
        assert response.status_code == 202, response.text
        run = response.json()
        assert run["status"] == "queued"
        url = response.headers["location"]
        assert url == f"/api/v1/backtests/{run['id']}"

        done = wait_until_done(client, url)
        assert done["status"] == "succeeded", done
        assert done["progress"] == 1.0
        listed = client.get("/api/v1/backtests", params={"strategy": "sma_cross"}).json()
        assert [r["id"] for r in listed] == [run["id"]]

        # The same spec run in this process gives the same metrics.
        spec = RunSpec(**BODY)  # type: ignore[arg-type]
        direct = runs.execute(spec, app.state.cift.settings)
        assert done["metrics"] == direct.metrics.to_dict()

        page = client.get(f"{url}/report")
        assert page.headers["content-type"].startswith("text/html")
        assert "Plotly.newPlot" in page.text
        # One file: the plotly.js the folder shares is inline in what is served.
        assert '<script charset="utf-8" src=' not in page.text
        assert len(page.text) > len(Path(done["artifacts"]["tearsheet.html"]).read_text()) + 10**6
        numbers = client.get(f"{url}/report", headers={"Accept": "application/json"}).json()
        assert numbers["metrics"] == done["metrics"]

        equity = client.get(f"{url}/frames/equity").json()["rows"]
        assert len(equity) == direct.result.equity.height
        assert equity[-1]["equity"] == pytest.approx(direct.result.equity["equity"][-1])
        trades = client.get(f"{url}/frames/trades", headers={"Accept": "text/csv"})
        assert trades.text.count("\n") == direct.result.trades.height + 1  # and the header
        assert client.get(f"{url}/frames/positions").status_code == 422


def test_bad_requests_are_problems(client: TestClient) -> None:
    bad = client.post("/api/v1/backtests", json={**BODY, "params": {"fast": 60}})
    assert bad.status_code == 422
    assert "fast (60) must be shorter than slow (50)" in bad.json()["detail"]
    unknown = client.post("/api/v1/backtests", json={**BODY, "data_file": "/etc/passwd"})
    assert unknown.status_code == 422
    missing = client.get("/api/v1/backtests/01a23015-3155-729a-8fa9-a2df1c7abca5")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('"config": {"initial_cash": NaN}', "initial_cash"),
        ('"config": {"initial_cash": Infinity}', "initial_cash"),
        ('"config": {"initial_cash": 1e308}', "initial_cash"),
        ('"config": {"initial_cash": "inf"}', "initial_cash"),
        ('"config": {"commission": -1}', "commission"),
        ('"config": {"commission": {"model": "bps", "bps": -1}}', "bps"),
        ('"config": {"slippage": {"model": "fixed_bps", "bps": NaN}}', "bps"),
        ('"config": {"latency_ns": -5}', "latency_ns"),
        ('"config": {"report_dir": "/tmp"}', "report_dir"),
        ('"params": {"fast": NaN}', "fast"),
    ],
)
def test_hostile_settings_are_problems_not_crashes(
    client: TestClient, app: FastAPI, body: str, says: str
) -> None:
    base = json.dumps({k: v for k, v in BODY.items() if k not in ("config", "params")})
    content = base[:-1] + ", " + body + "}"
    answer = client.post(
        "/api/v1/backtests", content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert says in answer.text
    assert client.get("/api/v1/backtests").json() == []


def test_a_failing_job_is_recorded_as_failed(client: TestClient) -> None:
    with client:
        response = client.post("/api/v1/backtests", json={**BODY, "symbols": ["ZZZ"]})
        done = wait_until_done(client, response.headers["location"])
    assert done["status"] == "failed"
    assert "The store has no bars for ZZZ" in str(done["error"])
    report = client.get(f"{response.headers['location']}/report")
    assert report.status_code == 404


def test_runs_orphaned_by_a_dead_process_are_failed(app: FastAPI) -> None:
    settings = app.state.cift.settings
    with backtest_records(settings) as records:
        run_id = records.create({"strategy": "sma_cross"}, 100_000.0)
        records.start(run_id)
        with records.sessions() as session, session.begin():
            row = session.get(Backtest, run_id)
            assert row is not None
            host = row.artifacts["worker"].split(":")[0]
            row.artifacts = {"worker": f"{host}:999999999"}
        assert records.fail_orphans() == 1
        assert records.get(run_id).status is JobStatus.FAILED


def test_the_strategies_and_their_parameters(client: TestClient) -> None:
    listed = {s["name"]: s for s in client.get("/api/v1/backtests/strategies").json()}
    assert set(listed) == set(STRATEGIES)
    sma = listed["sma_cross"]["params"]["properties"]
    assert (sma["fast"]["default"], sma["slow"]["default"]) == (10, 50)
    assert listed["order_flow"]["data"] == ["quotes", "trades"]
