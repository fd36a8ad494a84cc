"""The demo runs the whole loop end to end (on a smaller market than `cift demo`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cift.backtest import demo
from cift.backtest.demo import DemoPlan, run_demo
from cift.cli.app import app
from cift.data.store import open_store
from cift.model import DataKind
from tests.conftest import SettingsFactory

SMALL = DemoPlan(
    symbols=("AAA", "BBB", "CCC"),
    start=datetime(2024, 3, 1, tzinfo=UTC),
    end=datetime(2024, 3, 15, tzinfo=UTC),
    ticks_start=datetime(2024, 3, 13, tzinfo=UTC),
    ticks_end=datetime(2024, 3, 14, tzinfo=UTC),
    train_end=datetime(2024, 3, 11, tzinfo=UTC),
)


def test_the_demo_stores_computes_and_records(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    steps: list[tuple[str, float]] = []
    outcome = run_demo(settings, SMALL, lambda name, done: steps.append((name, done)))

    store = open_store(settings)
    bars = store.read(DataKind.BARS, timeframe=demo.MINUTE).collect()
    features = store.read_features(outcome.feature_set).collect()
    store.close()
    minutes = 3 * 10 * 390  # 10 XNYS sessions from 2024-03-01 to 03-14
    assert outcome.rows["bars"] == bars.height
    assert 0.95 * minutes < bars.height <= minutes  # a quiet minute with no trade has no bar
    assert outcome.rows["trades"] > 0
    assert outcome.rows["quotes"] > 0
    assert features.height == outcome.feature_rows == bars.height
    assert features.select(pl.col("symbol").n_unique()).item() == 3

    assert [r.spec.strategy for r in outcome.runs] == [
        "sma_cross",
        "rsi_reversion",
        "donchian_breakout",
        "momentum",
        "order_flow",
        "model_signal",
        "sma_cross",
    ]
    assert outcome.model is not None
    trained = outcome.model.to_dict()
    assert trained["model"] == "demo-lgbm"
    assert trained["model_version"] == 1
    assert outcome.model.dataset.span[1] < "2024-03-11"  # trained before the backtest window
    model_run, after = outcome.runs[-2:]
    assert model_run.spec.params == {"model": "demo-lgbm", "version": "1"}
    assert model_run.spec.start == after.spec.start == SMALL.train_end
    assert model_run.metrics.trades > 0
    for run in outcome.runs:
        assert (run.folder / "tearsheet.html").is_file()
        assert run.metrics.final_equity > 0
    assert {name for name, done in steps if done == 1.0} >= {"features", "backtest momentum"}

    again = run_demo(settings, SMALL)  # stored data is reused, runs are recorded again
    assert again.rows == outcome.rows
    assert [r.metrics for r in again.runs] == [r.metrics for r in outcome.runs]
    assert again.model is not None
    assert again.model.model_version == 2  # trained again on the same rows: the same model
    assert again.model.configuration.id == outcome.model.configuration.id


def test_cift_demo_prints_a_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cift.cli.demo.DemoPlan", lambda: SMALL)
    result = CliRunner().invoke(app, ["demo", "--json", "--no-ml"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["runs"]) == 5
    assert summary["model"] is None
    assert all(Path(run["report"]).is_file() for run in summary["runs"])
    listed = CliRunner().invoke(app, ["backtest", "ls", "--json"])
    assert {r["id"] for r in json.loads(listed.stdout)} == {r["id"] for r in summary["runs"]}
